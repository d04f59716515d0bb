/*
 * The call-operation plumbing on its own (calling/op.c): the call's list,
 * lookup by family and control_id, release through the vtable, events of a
 * detached op going nowhere, the 501 for a sub-method an op lacks, and the
 * shared status_url check. The real ops are exercised against sipp in
 * tests/integration/test_relayd_calling.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "calling/call.h"
#include "calling/op.h"

static int freed;

static void fake_leg_gone(call_op *op)
{
    call_op_detach(op);
}

static void fake_free(call_op *op)
{
    call_op_cleanup(op);
    free(op);
    freed++;
}

static const call_op_vtbl fake_vtbl = {.on_leg_gone = fake_leg_gone, .free = fake_free};

static call_op *fake_op(relayd *rd, proto_family f, const char *control_id, const char *url)
{
    call_op *op = calloc(1, sizeof *op);
    assert_non_null(op);
    assert_int_equal(call_op_init(op, &fake_vtbl, f, rd, control_id, url), 0);
    return op;
}

static void the_list_finds_by_family_and_control_id(void **state)
{
    (void)state;
    relayd rd = {0};
    call c = {0};
    call_op *p1 = fake_op(&rd, PF_PLAY, "p1", NULL);
    call_op *p2 = fake_op(&rd, PF_PLAY, "p2", "http://127.0.0.1:9/hook");
    call_op *rf = fake_op(&rd, PF_REFER, NULL, NULL);
    call_op_attach(&c, p1);
    call_op_attach(&c, p2);
    call_op_attach(&c, rf);
    assert_ptr_equal(p1->call, &c);
    assert_string_equal(rf->control_id, "");
    assert_string_equal(p2->status_url, "http://127.0.0.1:9/hook");

    assert_ptr_equal(call_op_find(&c, PF_PLAY, "p1"), p1);
    assert_ptr_equal(call_op_find(&c, PF_PLAY, "p2"), p2);
    assert_null(call_op_find(&c, PF_PLAY, "p3"));
    assert_null(call_op_find(&c, PF_RECORD, "p1")); /* a control_id is per family */
    assert_ptr_equal(call_op_find(&c, PF_REFER, NULL), rf);

    freed = 0;
    call_op_release(p2);
    assert_int_equal(freed, 1);
    assert_null(call_op_find(&c, PF_PLAY, "p2"));
    assert_ptr_equal(call_op_find(&c, PF_PLAY, "p1"), p1);

    /* a detached op stays alive for its owner and says nothing */
    call_op_detach(p1);
    assert_null(p1->call);
    assert_null(call_op_find(&c, PF_PLAY, "p1"));
    call_op_emit(p1, json_pack("{s:s}", "state", "finished")); /* dropped, not leaked */
    call_op_detach(p1); /* twice is harmless */
    call_op_release(p1);
    call_op_release(rf);
    assert_int_equal(freed, 3);
    assert_null(c.ops);
}

static void a_missing_role_is_501_naming_the_method(void **state)
{
    (void)state;
    json_t *r = call_op_unsupported(PROTO_ROLE_VOLUME, PF_PLAY);
    assert_string_equal(json_string_value(json_object_get(r, "code")), "501");
    assert_string_equal(json_string_value(json_object_get(r, "message")),
                        "calling.play.volume is not implemented by this relayd");
    json_decref(r);
    r = call_op_unsupported(PROTO_ROLE_PAUSE, PF_REFER); /* no such row at all */
    assert_string_equal(json_string_value(json_object_get(r, "code")), "501");
    json_decref(r);
}

static void status_url_is_checked_once_for_every_family(void **state)
{
    (void)state;
    const char *url = "x";
    json_t *p = json_pack("{s:s}", "other", "y");
    assert_null(call_op_check_status_url(p, &url));
    assert_null(url); /* absent: no webhooks */
    json_decref(p);

    p = json_pack("{s:s}", "status_url", "https://hooks.example.com/a");
    assert_null(call_op_check_status_url(p, &url));
    assert_string_equal(url, "https://hooks.example.com/a");
    json_decref(p);

    static const char *const bad[] = {"ftp://x/y", "not a url", "http://a\r\nb/", NULL};
    for (int i = 0; bad[i]; i++) {
        p = json_pack("{s:s}", "status_url", bad[i]);
        json_t *r = call_op_check_status_url(p, &url);
        assert_non_null(r);
        assert_string_equal(json_string_value(json_object_get(r, "code")), "400");
        assert_null(url);
        json_decref(r);
        json_decref(p);
    }
    p = json_pack("{s:i}", "status_url", 7);
    json_t *r = call_op_check_status_url(p, &url);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "message")),
                        "status_url must be a string");
    json_decref(r);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_list_finds_by_family_and_control_id),
        cmocka_unit_test(a_missing_role_is_501_naming_the_method),
        cmocka_unit_test(status_url_is_checked_once_for_every_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
