/*
 * Typed events, per-call listeners and wait_for, against the in-process
 * fake server (it sends event shapes on cue: a collect's partial results,
 * an inbound message). relay_call_wait_for_event on a real relayd call is
 * in integration.test_client_session.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <relay/relay.h>

#include "fake_relay.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static relay_client *new_client(fake *f)
{
    static const char *const ctx[] = {"office", NULL};
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", f->port);
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = host;
    o.plain_ws = 1;
    o.project = "proj-1";
    o.token = "PT-secret";
    o.contexts = ctx;
    o.request_timeout_ms = 3000;
    o.log_level = RELAY_LOG_ERROR;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    return c;
}

/* The inbound call, kept by the handler for the test's thread. */
static struct {
    pthread_mutex_t lock;
    relay_call *call;
} inbound = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void keep_call(relay_call *call, void *user)
{
    (void)user;
    relay_call_ref(call);
    pthread_mutex_lock(&inbound.lock);
    inbound.call = call;
    pthread_mutex_unlock(&inbound.lock);
}

static relay_call *receive_call(fake *f, const char *call_id)
{
    char p[256];
    snprintf(p, sizeof p,
             "{\"call_id\":\"%s\",\"node_id\":\"n1\",\"call_state\":\"ringing\","
             "\"context\":\"office\",\"direction\":\"inbound\"}",
             call_id);
    fake_event(f, "calling.call.receive", p);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&inbound.lock);
        relay_call *call = inbound.call;
        inbound.call = NULL;
        pthread_mutex_unlock(&inbound.lock);
        if (call)
            return call;
        sleep_ms(10);
    }
    fail_msg("no inbound call");
    return NULL;
}

/* What the listeners saw: "type:state:digits" per event. */
static struct {
    pthread_mutex_t lock;
    char all[1024];
    int collect_only;
    int bad; /* an event whose typed fields disagree with its text */
} heard = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void hear_all(relay_call *call, const relay_event *ev, void *user)
{
    (void)user;
    const char *digits = relay_result_get(ev->params, "result.params.digits");
    pthread_mutex_lock(&heard.lock);
    size_t n = strlen(heard.all);
    snprintf(heard.all + n, sizeof heard.all - n, "%s:%s:%s ", relay_event_type_name(ev->type),
             ev->state ? ev->state : "-", digits ? digits : "-");
    if (strcmp(ev->event_type, relay_event_type_name(ev->type)) != 0 ||
        strcmp(ev->call_id, relay_call_id(call)) != 0 || !strstr(ev->params_json, ev->call_id))
        heard.bad++;
    pthread_mutex_unlock(&heard.lock);
}

static void hear_collect(relay_call *call, const relay_event *ev, void *user)
{
    (void)call;
    (void)user;
    pthread_mutex_lock(&heard.lock);
    heard.collect_only += ev->type == RELAY_EVENT_CALL_COLLECT ? 1 : 1000;
    pthread_mutex_unlock(&heard.lock);
}

static int two_digits(const relay_event *ev, void *user)
{
    (void)user;
    const char *d = relay_result_get(ev->params, "result.params.digits");
    return d && strlen(d) == 2;
}

typedef struct waiter {
    relay_call *call;
    relay_client *client;
    relay_event_type type;
    relay_event_predicate pred;
    int timeout_ms;
    relay_status st;
    relay_result *out;
    pthread_t thread;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    w->st = w->call ? relay_call_wait_for_event(w->call, w->type, w->pred, NULL, w->timeout_ms,
                                                &w->out)
                    : relay_client_wait_for_event(w->client, w->type, w->pred, NULL,
                                                  w->timeout_ms, &w->out);
    return NULL;
}

static void listeners_and_a_predicate_see_typed_events(void **state)
{
    fake *f = *state;
    relay_client *c = new_client(f);
    assert_int_equal(relay_client_on_call(c, keep_call, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    relay_call *call = receive_call(f, "call-ev-1");
    assert_int_equal(relay_call_on(call, RELAY_EVENT_UNKNOWN, hear_all, NULL), RELAY_OK);
    assert_int_equal(relay_call_on(call, RELAY_EVENT_CALL_COLLECT, hear_collect, NULL), RELAY_OK);

    waiter w = {.call = call, .type = RELAY_EVENT_CALL_COLLECT, .pred = two_digits,
                .timeout_ms = 5000};
    assert_int_equal(pthread_create(&w.thread, NULL, wait_main, &w), 0);
    sleep_ms(500); /* the wait has begun (a thread start, even under valgrind) */
    fake_event(f, "calling.call.state",
               "{\"call_id\":\"call-ev-1\",\"node_id\":\"n1\",\"call_state\":\"answered\"}");
    fake_event(f, "calling.call.collect",
               "{\"call_id\":\"call-ev-1\",\"control_id\":\"k1\",\"final\":false,"
               "\"result\":{\"type\":\"digit\",\"params\":{\"digits\":\"1\"}}}");
    fake_event(f, "calling.call.collect",
               "{\"call_id\":\"call-ev-1\",\"control_id\":\"k1\",\"final\":true,"
               "\"result\":{\"type\":\"digit\",\"params\":{\"digits\":\"12\",\"terminator\":\"#\"}}}");
    fake_event(f, "calling.call.play",
               "{\"call_id\":\"call-ev-1\",\"control_id\":\"p1\",\"state\":\"finished\"}");
    pthread_join(w.thread, NULL);
    assert_int_equal(w.st, RELAY_OK);
    assert_string_equal(relay_result_get(w.out, "result.params.digits"), "12");
    assert_string_equal(relay_result_get(w.out, "result.params.terminator"), "#");
    assert_string_equal(relay_result_get(w.out, "final"), "true");
    assert_null(relay_result_get(w.out, "result.params")); /* an object: no text */
    assert_null(relay_result_get(w.out, "result.params.digits."));
    relay_result_free(w.out);

    /* the listeners have seen the play event: it is past */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&heard.lock);
        int done = strstr(heard.all, "calling.call.play") != NULL;
        pthread_mutex_unlock(&heard.lock);
        if (done)
            break;
        sleep_ms(10);
    }
    /* an event already past is not seen: only what comes after the wait */
    w = (waiter){.call = call, .type = RELAY_EVENT_CALL_PLAY, .timeout_ms = 300};
    wait_main(&w);
    assert_int_equal(w.st, RELAY_ERR_TIMEOUT);
    assert_null(w.out);

    pthread_mutex_lock(&heard.lock);
    assert_string_equal(heard.all, "calling.call.state:answered:- calling.call.collect:-:1 "
                                   "calling.call.collect:-:12 calling.call.play:finished:- ");
    assert_int_equal(heard.collect_only, 2);
    assert_int_equal(heard.bad, 0);
    pthread_mutex_unlock(&heard.lock);

    /* The end of the call: the ended event is offered to the predicate
     * first; a wait for something else returns RELAY_ERR_STATE once the
     * call is gone (after its linger for late events). */
    waiter ended = {.call = call, .type = RELAY_EVENT_CALL_STATE, .timeout_ms = 5000};
    waiter never = {.call = call, .type = RELAY_EVENT_CALL_RECORD, .timeout_ms = 20000};
    assert_int_equal(pthread_create(&ended.thread, NULL, wait_main, &ended), 0);
    assert_int_equal(pthread_create(&never.thread, NULL, wait_main, &never), 0);
    sleep_ms(500);
    fake_event(f, "calling.call.state",
               "{\"call_id\":\"call-ev-1\",\"node_id\":\"n1\",\"call_state\":\"ended\"}");
    pthread_join(ended.thread, NULL);
    assert_int_equal(ended.st, RELAY_OK);
    assert_string_equal(relay_result_get(ended.out, "call_state"), "ended");
    relay_result_free(ended.out);
    pthread_join(never.thread, NULL);
    assert_int_equal(never.st, RELAY_ERR_STATE);
    assert_null(never.out);
    relay_call_unref(call);
    relay_client_free(c);
}

static int from_alice(const relay_event *ev, void *user)
{
    (void)user;
    const char *from = relay_result_get(ev->params, "from_number");
    return from && strcmp(from, "+15550001111") == 0;
}

static void client_wait_for_a_message(void **state)
{
    fake *f = *state;
    relay_client *c = new_client(f);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    assert_int_equal(relay_event_type_from_name("messaging.receive"), RELAY_EVENT_MESSAGING_RECEIVE);
    assert_int_equal(relay_event_type_from_name("no.such.event"), RELAY_EVENT_UNKNOWN);
    assert_string_equal(relay_event_type_name(RELAY_EVENT_UNKNOWN), "");

    waiter w = {.client = c, .type = RELAY_EVENT_MESSAGING_RECEIVE, .pred = from_alice,
                .timeout_ms = 5000};
    assert_int_equal(pthread_create(&w.thread, NULL, wait_main, &w), 0);
    sleep_ms(500);
    fake_event(f, "messaging.receive",
               "{\"message_id\":\"m1\",\"from_number\":\"+15559998888\",\"body\":\"spam\","
               "\"message_state\":\"received\"}");
    fake_event(f, "messaging.receive",
               "{\"message_id\":\"m2\",\"from_number\":\"+15550001111\",\"body\":\"hi\","
               "\"media\":[\"https://example.com/a.png\"],\"message_state\":\"received\"}");
    pthread_join(w.thread, NULL);
    assert_int_equal(w.st, RELAY_OK);
    assert_string_equal(relay_result_get(w.out, "message_id"), "m2");
    assert_string_equal(relay_result_get(w.out, "media.0"), "https://example.com/a.png");
    assert_null(relay_result_get(w.out, "media.1"));
    assert_null(relay_result_get(w.out, "media.x"));
    relay_result_free(w.out);

    relay_client_free(c);
}

/* relay_client_free with everything in flight: a call whose handler is
 * blocked in a wait for an event that never comes, a running play action
 * nobody waits on, a request the server never answers (callback form), a
 * listener, and a client-level waiter on a handler thread. Free must
 * return, run every callback once, and leave nothing behind (ASan's leak
 * check and `make valgrind` judge that). */
static struct {
    pthread_mutex_t lock;
    int entered;
    relay_status handler_wait, client_wait, hang_cb;
    int hang_cb_runs;
} busy = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_hang_answer(relay_status st, relay_result *res, void *user)
{
    (void)res;
    (void)user;
    pthread_mutex_lock(&busy.lock);
    busy.hang_cb = st;
    busy.hang_cb_runs++;
    pthread_mutex_unlock(&busy.lock);
}

static void on_call_busy(relay_call *call, void *user)
{
    (void)user;
    relay_call_on(call, RELAY_EVENT_UNKNOWN, hear_all, NULL);
    relay_media m = {.type = "silence", .duration = 60};
    relay_action *a = NULL;
    relay_call_play_async(call, &m, 1, NULL, &a); /* left running, never freed by us... */
    relay_call_execute_async(call, "test.hang", NULL, on_hang_answer, NULL);
    pthread_mutex_lock(&busy.lock);
    busy.entered++;
    int second = busy.entered == 2;
    pthread_mutex_unlock(&busy.lock);
    relay_status st = second ? relay_client_wait_for_event(relay_call_client(call),
                                                           RELAY_EVENT_CALL_RECORD, NULL, NULL, 0,
                                                           NULL)
                             : relay_call_wait_for_event(call, RELAY_EVENT_CALL_RECORD, NULL,
                                                         NULL, 0, NULL);
    pthread_mutex_lock(&busy.lock);
    if (second)
        busy.client_wait = st;
    else
        busy.handler_wait = st;
    pthread_mutex_unlock(&busy.lock);
    relay_action_free(a); /* ...until the wait returns */
}

static void free_with_everything_in_flight(void **state)
{
    fake *f = *state;
    relay_client *c = new_client(f);
    assert_int_equal(relay_client_on_call(c, on_call_busy, NULL), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    fake_event(f, "calling.call.receive",
               "{\"call_id\":\"busy-1\",\"node_id\":\"n1\",\"call_state\":\"ringing\"}");
    fake_event(f, "calling.call.receive",
               "{\"call_id\":\"busy-2\",\"node_id\":\"n1\",\"call_state\":\"ringing\"}");
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&busy.lock);
        int n = busy.entered;
        pthread_mutex_unlock(&busy.lock);
        if (n == 2)
            break;
        sleep_ms(10);
    }
    sleep_ms(200); /* both handlers are in their waits */
    relay_client_free(c);
    assert_int_equal(busy.entered, 2);
    assert_int_equal(busy.handler_wait, RELAY_ERR_STATE);
    assert_int_equal(busy.client_wait, RELAY_ERR_STATE);
    assert_int_equal(busy.hang_cb_runs, 2);
    assert_int_equal(busy.hang_cb, RELAY_ERR_CLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(listeners_and_a_predicate_see_typed_events, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(client_wait_for_a_message, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(free_with_everything_in_flight, fake_setup,
                                        fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
