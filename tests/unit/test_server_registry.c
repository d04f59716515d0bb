/*
 * relayd's method registry against the common table: every handler a
 * family file lists is a method of that family in the table, no method is
 * served twice, sub-methods are left to the ops' control (no handler), and
 * the set relayd serves is exactly the one documented. A descriptor that
 * drifts from the table fails here before it misroutes a request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "common/protocol.h"
#include "rpc.h"

/* Which descriptor serves m: a listed handler, or its family's control. */
static int served_by(proto_method m, int *via_control)
{
    const proto_method_info *mi = proto_method_get(m);
    int hits = 0;
    *via_control = 0;
    for (size_t i = 0; server_families[i]; i++) {
        const server_family_desc *d = server_families[i];
        for (const server_method *sm = d->methods; sm->fn; sm++)
            hits += sm->method == m;
        if ((mi->flags & PROTO_MF_CONTROL) && d->family != PF_NONE && d->family == mi->family) {
            hits++;
            *via_control = 1;
        }
    }
    return hits;
}

static void descriptors_agree_with_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; server_families[i]; i++) {
        const server_family_desc *d = server_families[i];
        for (const server_method *sm = d->methods; sm->fn; sm++) {
            const proto_method_info *mi = proto_method_get(sm->method);
            assert_non_null(mi);
            if (mi->family != d->family)
                fail_msg("%s listed under the wrong family descriptor", mi->name);
            if (mi->flags & PROTO_MF_CONTROL)
                fail_msg("%s is a sub-method: its op's control serves it, not a handler",
                         mi->name);
            assert_int_not_equal(mi->role, PROTO_ROLE_SERVER);
        }
    }
}

static void each_method_is_served_at_most_once(void **state)
{
    (void)state;
    int via;
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++)
        if (served_by((proto_method)m, &via) > 1)
            fail_msg("%s is served twice", proto_method_name((proto_method)m));
}

static void control_rows_name_a_call(void **state)
{
    (void)state;
    /* the RPC layer looks the op up on the call: CONTROL needs CALL */
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++) {
        const proto_method_info *mi = proto_method_get((proto_method)m);
        if (mi->flags & PROTO_MF_CONTROL)
            assert_true(mi->flags & PROTO_MF_CALL);
    }
}

static void relayd_serves_the_documented_set(void **state)
{
    (void)state;
    static const char *const want[] = {
        "signalwire.connect", "signalwire.ping", "signalwire.receive", "signalwire.unreceive",
        "calling.answer", "calling.end", "calling.pass", "calling.play", "calling.play.stop",
        "calling.play.pause", "calling.play.resume", "calling.play.volume", "calling.refer",
        "calling.refer.answer",
        "calling.record", "calling.record.stop", "calling.record.pause", "calling.record.resume",
        "calling.collect", "calling.collect.stop", "calling.collect.start_input_timers",
        "calling.detect", "calling.detect.stop",
        "calling.play_and_collect", "calling.play_and_collect.stop",
        "calling.play_and_collect.volume",
        "calling.send_digits", "calling.dial", "calling.begin", "calling.hold", "calling.unhold",
        "calling.echo", "calling.denoise", "calling.denoise.stop",
        "calling.tap", "calling.tap.stop", "calling.stream", "calling.stream.stop",
        "messaging.send", "calling.connect", "calling.disconnect",
        "calling.bind_digit", "calling.clear_digit_bindings", "calling.transfer",
        "calling.send_fax", "calling.send_fax.stop", "calling.receive_fax",
        "calling.receive_fax.stop", "calling.queue.enter", "calling.queue.leave",
        "calling.join_conference", "calling.leave_conference", NULL};
    size_t n_want = 0, n_served = 0;
    for (; want[n_want]; n_want++) {
        int via;
        if (served_by(proto_method_from_name(want[n_want]), &via) != 1)
            fail_msg("%s is not served", want[n_want]);
    }
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++) {
        int via;
        n_served += served_by((proto_method)m, &via) > 0;
    }
    assert_int_equal(n_served, n_want); /* and nothing else: the rest answer 501 */
    int via;
    assert_int_equal(served_by(PM_PLAY_VOLUME, &via), 1);
    assert_true(via); /* volume needed no handler of its own */
    assert_int_equal(served_by(PM_JOIN_ROOM, &via), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(descriptors_agree_with_the_table),
        cmocka_unit_test(each_method_is_served_at_most_once),
        cmocka_unit_test(control_rows_name_a_call),
        cmocka_unit_test(relayd_serves_the_documented_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
