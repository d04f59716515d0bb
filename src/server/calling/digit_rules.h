/*
 * When a digit collection is over: the rules of calling.collect's digits
 * (max, terminators, digit_timeout, initial_timeout, partial_results),
 * parsed from the client's collect object and applied to each digit and at
 * each timer check. Pure state, no I/O: calling.collect and
 * calling.play_and_collect both decide with it, so they end alike.
 */
#ifndef RELAYD_CALLING_DIGIT_RULES_H
#define RELAYD_CALLING_DIGIT_RULES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DIGIT_RULES_MAX 64

typedef struct digit_rules {
    int max;
    char terminators[17];
    double initial_s, digit_s; /* 0: off */
    int partial;               /* partial_results: report each digit */
    int timers_requested;      /* start_input_timers (absent: true) */
    int timers_started;
    int64_t timers_at_ms, last_digit_ms;
    char digits[DIGIT_RULES_MAX + 1];
    size_t n_digits;
} digit_rules;

/* What one digit or one check decided. */
typedef enum digit_verdict {
    DIGIT_MORE,     /* keep collecting */
    DIGIT_PARTIAL,  /* keep collecting; *result is a partial result to report */
    DIGIT_FINISHED, /* over: *result is the digit result (state "finished") */
    DIGIT_NO_INPUT  /* over: nothing pressed in time (*result is {type: no_input}) */
} digit_verdict;

/* The collect object ({digits, speech?, initial_timeout?, partial_results?,
 * start_input_timers?}) into *r. NULL if fine; else the 400 (or, for
 * speech, 501) result saying why. */
json_t *digit_rules_parse(json_t *collect, digit_rules *r);

/* Starts initial_timeout (and digit_timeout's clock) at now_ms; once. */
void digit_rules_start_timers(digit_rules *r, int64_t now_ms);

/* A digit arrived at now_ms. *result (owned by the caller) is set for
 * every verdict but DIGIT_MORE. */
digit_verdict digit_rules_digit(digit_rules *r, char digit, int64_t now_ms, json_t **result);

/* A timer check at now_ms: DIGIT_MORE, DIGIT_FINISHED (digit_timeout after
 * some digits) or DIGIT_NO_INPUT (initial_timeout with none). */
digit_verdict digit_rules_check(const digit_rules *r, int64_t now_ms, json_t **result);

/* What ends it early (a stop): the digits so far (finished), or no_input. */
digit_verdict digit_rules_so_far(const digit_rules *r, json_t **result);

/* The state word of a final verdict: "finished" or "no_input". */
const char *digit_rules_state(digit_verdict v);

#endif
