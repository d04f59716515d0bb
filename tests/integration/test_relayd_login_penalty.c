/*
 * Failed logins slow their address down (auth/login_penalty.h), against
 * the real relayd: the first three failures from 127.0.0.1 are answered at
 * once, the next ones only after 250, 500, 1000 ms (lower bounds, so the
 * test cannot be fooled by a slow machine); a client that logged in before
 * keeps being served at once meanwhile; a right login from the same address
 * still gets in, and clears the address.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relayd_proc.h"
#include "test_time.h"
#include "ws_raw.h"

#define PROJECT "penalty-project"
#define TOKEN "penalty-token-0123456789"
#define WS 61580

static char *connect_frame(const char *token)
{
    static char buf[400];
    snprintf(buf, sizeof buf,
             "{\"jsonrpc\":\"2.0\",\"id\":\"c1\",\"method\":\"signalwire.connect\",\"params\":"
             "{\"authentication\":{\"project\":\"" PROJECT "\",\"token\":\"%s\"}}}",
             token);
    return buf;
}

/* One login on a new connection: its reply, and how long it took. */
static char *try_login(const char *token, int64_t *took_ms)
{
    int fd = ws_raw_connect("127.0.0.1", WS);
    assert_true(fd >= 0);
    const char *f = connect_frame(token);
    int64_t t0 = now_ms();
    assert_int_equal(ws_raw_send(fd, f, strlen(f)), 0);
    char *m = ws_raw_recv_match(fd, "\"id\":\"c1\"", 15000);
    *took_ms = now_ms() - t0;
    ws_raw_close(fd);
    return m;
}

static int64_t ping_ms(int fd)
{
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":\"pg\",\"method\":\"signalwire.ping\"}";
    int64_t t0 = now_ms();
    assert_int_equal(ws_raw_send(fd, ping, strlen(ping)), 0);
    char *m = ws_raw_recv_match(fd, "\"id\":\"pg\"", 5000);
    assert_non_null(m);
    free(m);
    return now_ms() - t0;
}

static void failed_logins_slow_their_address_down(void **state)
{
    (void)state;
    relayd_proc p;
    const char *args[] = {"--plain", "--ws-listen", "127.0.0.1:61580", "--sip-listen",
                          "127.0.0.1:57031", "--rtp-ports", "57700-57799", "--auth",
                          PROJECT ":" TOKEN, "--login-delay-max-ms", "1000",
                          "--ping-interval-ms", "0", NULL};
    assert_int_equal(relayd_proc_start(&p, args, "relayd-login-penalty.log"), 0);

    /* logged in before the guessing starts */
    int good = ws_raw_connect("127.0.0.1", WS);
    assert_true(good >= 0);
    const char *f = connect_frame(TOKEN);
    assert_int_equal(ws_raw_send(good, f, strlen(f)), 0);
    char *m = ws_raw_recv_match(good, "\"id\":\"c1\"", 5000);
    assert_non_null(m);
    assert_non_null(strstr(m, "\"protocol\""));
    free(m);

    int64_t floor_ms[] = {0, 0, 0, 250, 500, 1000, 1000};
    for (int i = 0; i < 7; i++) {
        int64_t took;
        m = try_login("wrong", &took);
        assert_non_null(m);
        assert_non_null(strstr(m, "-32002"));
        free(m);
        if (took < floor_ms[i])
            fail_msg("failure %d answered after %lld ms, want at least %lld", i + 1,
                     (long long)took, (long long)floor_ms[i]);
        /* the client with a session is not held up */
        int64_t pm = ping_ms(good);
        if (pm > 250)
            fail_msg("a ping took %lld ms during the guessing", (long long)pm);
    }
    /* the right credentials still get in (after the delay), and clear it */
    int64_t took;
    m = try_login(TOKEN, &took);
    assert_non_null(m);
    assert_non_null(strstr(m, "\"protocol\""));
    free(m);
    assert_true(took >= 1000);
    m = try_login("wrong", &took);
    free(m);
    assert_true(relayd_proc_log_contains(&p, "logins from this address keep failing"));
    assert_false(relayd_proc_log_contains(&p, TOKEN));
    ws_raw_close(good);
    assert_int_equal(relayd_proc_stop(&p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_logins_slow_their_address_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
