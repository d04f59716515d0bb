/*
 * status_url webhooks: JSON bodies POSTed by a thread of their own
 * (libcurl), so a slow receiver never stalls the core. Each POST is retried
 * with backoff when it fails or gets a 5xx/429 answer. URLs are logged
 * without their query string or userinfo (they may carry credentials).
 */
#ifndef RELAYD_WEBHOOK_H
#define RELAYD_WEBHOOK_H

#include "addr_policy.h"
#include "common/log.h"

typedef struct webhook webhook;

typedef struct webhook_config {
    int timeout_ms;   /* per attempt; 0: 5000 */
    int max_attempts; /* 0: 3 */
    int backoff_ms;   /* first retry delay, doubled each time; 0: 500 */
    const log_sink *log; /* where delivery failures are logged; must outlive the webhook */
    /* Internal addresses (addr_policy.h) are refused at connect time unless
     * in here; NULL: none allowed. Must outlive the webhook. */
    const addr_allow *allow;
} webhook_config;

/* cfg may be NULL (defaults). NULL if the thread cannot start. */
webhook *webhook_start(const webhook_config *cfg);
/* Queues one POST (url and body are copied). Posts are delivered one at a
 * time in the order queued (so posts to one URL keep their order; a
 * receiver being retried delays the ones behind it). A URL whose host
 * resolves to an internal address not in cfg.allow is not posted to (nor
 * retried); redirects are never followed. 0 if queued, -1 if
 * the URL is invalid, the webhook is stopping or out of memory. Any thread. */
int webhook_post(webhook *w, const char *url, const char *json_body);
/* Waits up to drain_ms for the queue to empty, then stops and frees. */
void webhook_stop(webhook *w, int drain_ms);

/* url with userinfo and query removed, for logs. malloc'd. */
char *webhook_url_for_log(const char *url);
/* 0 if url is an http:// or https:// URL fit to post to; else -1 and *why. */
int webhook_url_validate(const char *url, const char **why);

/* Counters for the metrics endpoint, readable from any thread: posts sent
 * again after a failure, and posts given up on. */
unsigned long long webhook_retries(webhook *w);
unsigned long long webhook_failures(webhook *w);

#endif
