/* The digit collection rules (see digit_rules.h). */
#include "calling/digit_rules.h"

#include <math.h>
#include <string.h>

#include "frames.h"

#define MAX_TIMEOUT_S 3600.0
#define DEFAULT_INITIAL_S 5.0
#define DEFAULT_DIGIT_S 5.0

/* A timeout in seconds: absent → dflt; else a number in [0, 3600]. */
static int timeout_of(json_t *obj, const char *key, double dflt, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    *out = json_number_value(v);
    return json_is_number(v) && isfinite(*out) && *out >= 0 && *out <= MAX_TIMEOUT_S ? 0 : -1;
}

json_t *digit_rules_parse(json_t *collect, digit_rules *r)
{
    memset(r, 0, sizeof *r);
    if (json_object_get(collect, "speech"))
        return frames_code_result(501, "this relayd has no speech recogniser: collect digits");
    json_t *digits = json_object_get(collect, "digits");
    if (!json_is_object(digits))
        return frames_code_result(400, "digits is required (an object)");
    json_t *max = json_object_get(digits, "max");
    if (!json_is_integer(max) || json_integer_value(max) < 1 ||
        json_integer_value(max) > DIGIT_RULES_MAX)
        return frames_code_result(400, "digits.max must be an integer from 1 to 64");
    r->max = (int)json_integer_value(max);
    json_t *term = json_object_get(digits, "terminators");
    const char *t = term ? json_string_value(term) : "";
    if (!t || strlen(t) >= sizeof r->terminators ||
        strspn(t, "0123456789*#ABCD") != strlen(t))
        return frames_code_result(400, "digits.terminators must be up to 16 of 0-9 * # A-D");
    strcpy(r->terminators, t);
    if (timeout_of(digits, "digit_timeout", DEFAULT_DIGIT_S, &r->digit_s) != 0)
        return frames_code_result(400, "digit_timeout must be between 0 and 3600 seconds");
    if (timeout_of(collect, "initial_timeout", DEFAULT_INITIAL_S, &r->initial_s) != 0)
        return frames_code_result(400, "initial_timeout must be between 0 and 3600 seconds");
    json_t *partial = json_object_get(collect, "partial_results");
    json_t *timers = json_object_get(collect, "start_input_timers");
    if ((partial && !json_is_boolean(partial)) || (timers && !json_is_boolean(timers)))
        return frames_code_result(400, "partial_results and start_input_timers are booleans");
    r->partial = json_is_true(partial);
    r->timers_requested = !timers || json_is_true(timers);
    return NULL;
}

void digit_rules_start_timers(digit_rules *r, int64_t now_ms)
{
    if (r->timers_started)
        return;
    r->timers_started = 1;
    r->timers_at_ms = now_ms;
}

static json_t *digit_result(const digit_rules *r, char terminator)
{
    char t[2] = {terminator, 0};
    return json_pack("{s:s,s:{s:s,s:s}}", "type", "digit", "params", "digits", r->digits,
                     "terminator", t);
}

static json_t *no_input(void)
{
    return json_pack("{s:s}", "type", "no_input");
}

digit_verdict digit_rules_digit(digit_rules *r, char digit, int64_t now_ms, json_t **result)
{
    *result = NULL;
    if (strchr(r->terminators, digit)) {
        *result = digit_result(r, digit);
        return DIGIT_FINISHED;
    }
    r->digits[r->n_digits++] = digit;
    r->digits[r->n_digits] = 0;
    r->last_digit_ms = now_ms;
    if (r->n_digits >= (size_t)r->max) {
        *result = digit_result(r, 0);
        return DIGIT_FINISHED;
    }
    if (!r->partial)
        return DIGIT_MORE;
    *result = digit_result(r, 0);
    return DIGIT_PARTIAL;
}

digit_verdict digit_rules_check(const digit_rules *r, int64_t now_ms, json_t **result)
{
    *result = NULL;
    if (!r->timers_started)
        return DIGIT_MORE;
    if (!r->n_digits) {
        if (r->initial_s > 0 && now_ms - r->timers_at_ms >= (int64_t)(r->initial_s * 1000)) {
            *result = no_input();
            return DIGIT_NO_INPUT;
        }
        return DIGIT_MORE;
    }
    if (r->digit_s > 0 && now_ms - r->last_digit_ms >= (int64_t)(r->digit_s * 1000)) {
        *result = digit_result(r, 0);
        return DIGIT_FINISHED;
    }
    return DIGIT_MORE;
}

digit_verdict digit_rules_so_far(const digit_rules *r, json_t **result)
{
    if (r->n_digits) {
        *result = digit_result(r, 0);
        return DIGIT_FINISHED;
    }
    *result = no_input();
    return DIGIT_NO_INPUT;
}

const char *digit_rules_state(digit_verdict v)
{
    return v == DIGIT_NO_INPUT ? "no_input" : "finished";
}
