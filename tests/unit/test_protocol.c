/* The shared protocol table: names round-trip, codes classify, and SIP
 * statuses map to the refer states relay-protocol.md prescribes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "common/protocol.h"

static void methods_round_trip(void **state)
{
    (void)state;
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++) {
        const char *name = proto_method_name((proto_method)m);
        assert_non_null(name);
        assert_int_equal(proto_method_from_name(name), m);
    }
    assert_string_equal(proto_method_name(PM_REFER), "calling.refer");
    assert_int_equal(proto_method_from_name("calling.nope"), PM_UNKNOWN);
    assert_int_equal(proto_method_from_name(NULL), PM_UNKNOWN);
}

static void events_round_trip(void **state)
{
    (void)state;
    for (int e = PE_UNKNOWN + 1; e < PE__COUNT; e++)
        assert_int_equal(proto_event_from_name(proto_event_name((proto_event)e)), e);
    assert_string_equal(proto_event_name(PE_CALL_REFER), "calling.call.refer");
}

static void call_states(void **state)
{
    (void)state;
    assert_int_equal(proto_call_state_from_name("answered"), RELAY_CALL_ANSWERED);
    assert_int_equal(proto_call_state_from_name("ended"), RELAY_CALL_ENDED);
    assert_int_equal(proto_call_state_from_name("bogus"), RELAY_CALL_NONE);
    assert_string_equal(proto_call_state_name(RELAY_CALL_RINGING), "ringing");
    assert_true(RELAY_CALL_CREATED < RELAY_CALL_RINGING && RELAY_CALL_ENDING < RELAY_CALL_ENDED);
}

static void refer_states(void **state)
{
    (void)state;
    assert_int_equal(proto_refer_state_from_name("inProgress"), RELAY_REFER_IN_PROGRESS);
    assert_int_equal(proto_refer_state_from_name("success"), RELAY_REFER_SUCCESS);
    assert_int_equal(proto_refer_state_from_name("completed"), RELAY_REFER_SUCCESS);
    assert_int_equal(proto_refer_state_from_name("finished"), RELAY_REFER_SUCCESS);
    assert_int_equal(proto_refer_state_from_name("noAnswer"), RELAY_REFER_NO_ANSWER);
    assert_int_equal(proto_refer_state_from_name("weird"), RELAY_REFER_UNKNOWN);
    assert_false(proto_refer_state_is_final(RELAY_REFER_IN_PROGRESS));
    assert_true(proto_refer_state_is_final(RELAY_REFER_BUSY));
}

static void refer_state_from_sip(void **state)
{
    (void)state;
    assert_int_equal(proto_refer_state_from_sip(202, 0), RELAY_REFER_IN_PROGRESS);
    assert_int_equal(proto_refer_state_from_sip(603, 0), RELAY_REFER_ERROR);
    assert_int_equal(proto_refer_state_from_sip(100, 1), RELAY_REFER_IN_PROGRESS);
    assert_int_equal(proto_refer_state_from_sip(180, 1), RELAY_REFER_IN_PROGRESS);
    assert_int_equal(proto_refer_state_from_sip(200, 1), RELAY_REFER_SUCCESS);
    assert_int_equal(proto_refer_state_from_sip(486, 1), RELAY_REFER_BUSY);
    assert_int_equal(proto_refer_state_from_sip(600, 1), RELAY_REFER_BUSY);
    assert_int_equal(proto_refer_state_from_sip(408, 1), RELAY_REFER_NO_ANSWER);
    assert_int_equal(proto_refer_state_from_sip(480, 1), RELAY_REFER_NO_ANSWER);
    assert_int_equal(proto_refer_state_from_sip(487, 1), RELAY_REFER_CANCEL);
    assert_int_equal(proto_refer_state_from_sip(503, 1), RELAY_REFER_ERROR);
    assert_int_equal(proto_refer_state_from_sip(0, 1), RELAY_REFER_ERROR);
}

static void result_codes(void **state)
{
    (void)state;
    assert_true(proto_code_is_success("200"));
    assert_true(proto_code_is_success("202"));
    assert_false(proto_code_is_success("404"));
    assert_false(proto_code_is_success("2000"));
    assert_false(proto_code_is_success("20x"));
    assert_false(proto_code_is_success(""));
    assert_false(proto_code_is_success(NULL));
    assert_true(proto_code_is_gone("404"));
    assert_true(proto_code_is_gone("410"));
    assert_false(proto_code_is_gone("409"));
}

static void end_reasons(void **state)
{
    (void)state;
    assert_true(proto_end_reason_valid("hangup"));
    assert_true(proto_end_reason_valid("noAnswer"));
    assert_false(proto_end_reason_valid("explode"));
    assert_false(proto_end_reason_valid(NULL));
}

/* The method table is the one place a method is named: every name is
 * unique, every sub-method belongs to a family with a start method, and
 * every family routes its events somewhere. */
static void method_table_shape(void **state)
{
    (void)state;
    /* the issue-6 list, and relayd's calling.refer.answer (issue 8) */
    assert_int_equal(proto_client_method_count(), 67);
    for (int m = PM_UNKNOWN + 1; m < PM__COUNT; m++) {
        const proto_method_info *mi = proto_method_get((proto_method)m);
        assert_non_null(mi);
        assert_int_equal(mi->method, m);
        for (int o = m + 1; o < PM__COUNT; o++)
            assert_string_not_equal(mi->name, proto_method_name((proto_method)o));
        if (mi->family != PF_NONE)
            assert_int_not_equal(proto_family_method(mi->family, PROTO_ROLE_START), PM_UNKNOWN);
        if (mi->flags & PROTO_MF_CONTROL)
            assert_int_not_equal(mi->family, PF_NONE);
    }
    for (int f = PF_NONE + 1; f < PF__COUNT; f++) {
        const proto_family_info *fi = proto_family_get((proto_family)f);
        assert_non_null(fi);
        assert_int_not_equal(fi->event, PE_UNKNOWN);
        assert_int_not_equal(fi->route, PROTO_ROUTE_NONE);
        assert_non_null(fi->terminal);
    }
    assert_int_equal(proto_family_method(PF_PLAY, PROTO_ROLE_STOP), PM_PLAY_STOP);
    assert_int_equal(proto_family_method(PF_PLAY, PROTO_ROLE_VOLUME), PM_PLAY_VOLUME);
    assert_int_equal(proto_family_method(PF_REFER, PROTO_ROLE_STOP), PM_UNKNOWN);
    assert_int_equal(proto_family_for_event(PE_CALL_REFER), PF_REFER);
    assert_int_equal(proto_family_for_event(PE_CALL_COLLECT), PF_COLLECT);
    assert_int_equal(proto_family_for_event(PE_CALL_STATE), PF_NONE);
    assert_true(proto_method_get(PM_PLAY)->flags & PROTO_MF_ANSWERED);
    assert_false(proto_method_get(PM_PASS)->flags & PROTO_MF_ANSWERED);
}

static void family_states(void **state)
{
    (void)state;
    assert_true(proto_family_state_is_terminal(PF_PLAY, "finished"));
    assert_true(proto_family_state_is_terminal(PF_PLAY, "error"));
    assert_false(proto_family_state_is_terminal(PF_PLAY, "playing"));
    assert_false(proto_family_state_is_terminal(PF_PLAY, "finish"));
    assert_false(proto_family_state_is_terminal(PF_PLAY, ""));
    assert_false(proto_family_state_is_terminal(PF_PLAY, NULL));
    assert_true(proto_family_state_is_failure(PF_PLAY, "error"));
    assert_false(proto_family_state_is_failure(PF_PLAY, "finished"));
    assert_true(proto_family_state_is_terminal(PF_REFER, "noAnswer"));
    assert_true(proto_family_state_is_terminal(PF_REFER, "completed"));
    assert_false(proto_family_state_is_terminal(PF_REFER, "inProgress"));
    assert_false(proto_family_state_is_failure(PF_REFER, "busy"));
    assert_true(proto_family_state_is_terminal(PF_RECORD, "no_input"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(methods_round_trip), cmocka_unit_test(events_round_trip),
        cmocka_unit_test(call_states),        cmocka_unit_test(refer_states),
        cmocka_unit_test(refer_state_from_sip), cmocka_unit_test(result_codes),
        cmocka_unit_test(end_reasons),
        cmocka_unit_test(method_table_shape), cmocka_unit_test(family_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
