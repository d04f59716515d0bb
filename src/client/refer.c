/*
 * refer: a family of the table like any other, so relay_call_refer is the
 * refer action started and waited for its answer. What is left here is
 * typing (relay_refer_event) and the one-release wrappers that read the
 * call's last refer action (wait_refer, refer_state, on_refer).
 */
#include "call.h"
#include "action.h"
#include "calling.h"
#include "client.h"
#include "dispatch.h"
#include "frames.h"
#include "result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/deadline.h"

/* Starts a refer action; *res (may be NULL) gets the server's answer. */
static relay_status refer_start(relay_call *call, const relay_device *device,
                                const char *status_url, relay_action **out, relay_result **res)
{
    *out = NULL;
    if (res)
        *res = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    relay_status st;
    json_t *p = lr_frame_refer_params(call->node_id, call->call_id, device, status_url, &st);
    if (!p)
        return st;
    relay_action *a = lr_action_new(call, PF_REFER, NULL);
    if (!a) {
        json_decref(p);
        return RELAY_ERR_NO_MEMORY;
    }
    st = lr_action_start(a, call, PM_REFER, p, NULL, NULL, res);
    json_decref(p);
    *out = a; /* even when refused: it is the call's last refer now */
    return st;
}

relay_status relay_call_refer(relay_call *call, const relay_device *device,
                              const char *status_url, relay_result **out)
{
    relay_action *a;
    relay_status st = refer_start(call, device, status_url, &a, out);
    lr_action_unref(a); /* the call keeps it as its last refer */
    return st;
}

relay_status relay_call_refer_async(relay_call *call, const relay_device *device,
                                    const char *status_url, relay_action **out)
{
    if (!out)
        return RELAY_ERR_INVALID_ARG;
    relay_action *a;
    relay_status st = refer_start(call, device, status_url, &a, NULL);
    if (st != RELAY_OK) {
        lr_action_unref(a);
        a = NULL;
    }
    *out = a;
    return st;
}

relay_status relay_call_refer_answer(relay_call *call, int accept, relay_result **out)
{
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    return lr_call_plain(call, PM_REFER_ANSWER,
                         lr_frame_refer_answer_params(call->node_id, call->call_id, accept), NULL,
                         NULL, out);
}

relay_status relay_call_refer_answer_async(relay_call *call, int accept,
                                           relay_result_callback cb, void *user)
{
    if (!call || !cb)
        return RELAY_ERR_INVALID_ARG;
    return lr_call_plain(call, PM_REFER_ANSWER,
                         lr_frame_refer_answer_params(call->node_id, call->call_id, accept), cb,
                         user, NULL);
}

/* ------------------------------------------------ one-release wrappers */

static void deliver_refer(relay_call *call, json_t *params, const lr_listener *l)
{
    relay_refer_event ev;
    lr_dispatch_refer_event(params, &ev);
    char *text = json_dumps(params, JSON_COMPACT);
    ev.params_json = text ? text : "{}";
    ((relay_refer_handler)l->fn)(call, &ev, l->user);
    free(text);
}

relay_status relay_call_on_refer(relay_call *call, relay_refer_handler fn, void *user)
{
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    pthread_mutex_lock(&call->lock);
    call->listeners[PF_REFER].deliver = fn ? deliver_refer : NULL;
    call->listeners[PF_REFER].fn = (void (*)(void))fn;
    call->listeners[PF_REFER].user = user;
    pthread_mutex_unlock(&call->lock);
    return RELAY_OK;
}

relay_refer_state relay_call_refer_state(const relay_call *call)
{
    if (!call)
        return RELAY_REFER_UNKNOWN;
    relay_action *a = lr_call_last_action((relay_call *)call, PF_REFER);
    relay_refer_state st = a ? proto_refer_state_from_name(relay_action_state(a))
                             : RELAY_REFER_UNKNOWN;
    lr_action_unref(a);
    return st;
}

/* Waits until the call has a refer action (a new ref) or is gone. */
static relay_action *wait_for_refer(relay_call *call, int timeout_ms, relay_status *st)
{
    struct timespec dl = deadline_after_ms(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&call->lock);
    while (!call->last[PF_REFER] && !call->gone && rc != ETIMEDOUT) {
        if (timeout_ms > 0)
            rc = pthread_cond_timedwait(&call->cond, &call->lock, &dl);
        else
            pthread_cond_wait(&call->cond, &call->lock);
    }
    relay_action *a = call->last[PF_REFER];
    if (a)
        lr_action_ref(a);
    *st = a ? RELAY_OK : call->gone ? RELAY_ERR_STATE : RELAY_ERR_TIMEOUT;
    pthread_mutex_unlock(&call->lock);
    return a;
}

relay_status relay_call_wait_refer(relay_call *call, int timeout_ms, relay_result **out)
{
    if (out)
        *out = NULL;
    if (!call)
        return RELAY_ERR_INVALID_ARG;
    if (lr_client_on_io_thread(call->client))
        return RELAY_ERR_STATE;
    relay_status st;
    relay_action *a = wait_for_refer(call, timeout_ms, &st);
    if (!a)
        return st;
    relay_result *res = NULL;
    /* The whole budget again at worst: a refer appearing late is rare. */
    st = relay_action_wait(a, timeout_ms, &res);
    if (st != RELAY_ERR_TIMEOUT) {
        /* Complete: OK only if a terminal refer state was reached (not the
         * call's end, not a refused start). */
        int terminal = proto_family_state_is_terminal(PF_REFER, relay_action_state(a));
        st = terminal ? RELAY_OK : RELAY_ERR_STATE;
    }
    lr_action_unref(a);
    if (out && st == RELAY_OK)
        *out = res;
    else
        relay_result_free(res);
    return st;
}
