/* relayd configuration: defaults, file + flags precedence, validation,
 * routing and credential checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static void defaults_are_a_loopback_dev_instance(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char *argv[] = {"relayd", NULL};
    assert_int_equal(config_load(&cfg, 1, argv, err, sizeof err), 0);
    assert_string_equal(cfg.ws_ip, "127.0.0.1");
    assert_int_equal(cfg.plain, 1);
    assert_int_equal(cfg.ws_port, 8080);
    assert_string_equal(cfg.sip_listen, "127.0.0.1:5070");
    assert_true(config_auth_check(&cfg, "dev", "dev"));
    assert_false(config_auth_check(&cfg, "dev", "de"));
    assert_false(config_auth_check(&cfg, "dev", "devv"));
    assert_false(config_auth_check(&cfg, NULL, "dev"));
    assert_int_equal(config_validate(&cfg, err, sizeof err), 0);
    config_free(&cfg);
}

static void file_then_flags(void **state)
{
    (void)state;
    char path[] = "/tmp/relayd-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nws_listen = 127.0.0.1:9000\nauth = p1:t1\nroute = support:office\n"
               "refer_timeout_ms = 5000\nlog_level = debug\n");
    fclose(f);
    char *argv[] = {"relayd", "--config", path, "--refer-timeout-ms", "7000", "--auth", "p2:t2",
                    "--plain", NULL};
    relayd_config cfg;
    char err[256];
    assert_int_equal(config_load(&cfg, 8, argv, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(cfg.ws_port, 9000);
    assert_int_equal(cfg.refer_timeout_ms, 7000); /* the flag wins */
    assert_int_equal(cfg.log_level, 3);
    assert_true(config_auth_check(&cfg, "p1", "t1"));
    assert_true(config_auth_check(&cfg, "p2", "t2"));
    assert_false(config_auth_check(&cfg, "p1", "t2"));
    assert_false(config_auth_check(&cfg, "dev", "dev")); /* no dev creds once configured */
    assert_string_equal(config_context_for(&cfg, "support"), "office");
    assert_string_equal(config_context_for(&cfg, "sales"), "sales");
    config_free(&cfg);
}

/* phone_trunk_context takes the trunk's numbers and the registered user;
 * a route still wins; a bad credential is named, never shown. */
static void trunk_keys(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char *argv[] = {"relayd", "--phone-trunk-context", "trunk-in", "--phone-trunk-username",
                    "acct7", "--phone-trunk-password", "pw-9f8e", "--route", "+15550000001:vip",
                    "--phone-trunk-register-expires", "60", NULL};
    assert_int_equal(config_load(&cfg, 11, argv, err, sizeof err), 0);
    assert_int_equal(cfg.phone_trunk_register_expires, 60);
    assert_string_equal(config_context_for(&cfg, "+15550001111"), "trunk-in");
    assert_string_equal(config_context_for(&cfg, "15550001111"), "trunk-in");
    assert_string_equal(config_context_for(&cfg, "acct7"), "trunk-in");
    assert_string_equal(config_context_for(&cfg, "+15550000001"), "vip");
    assert_string_equal(config_context_for(&cfg, "support"), "support");
    assert_int_equal(config_validate(&cfg, err, sizeof err), 0);
    config_free(&cfg);

    char *lone[] = {"relayd", "--phone-trunk-password", "pw-9f8e", NULL};
    assert_int_equal(config_load(&cfg, 3, lone, err, sizeof err), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "go together"));
    config_free(&cfg);

    char *bad[][3] = {{"relayd", "--phone-trunk-username", "a:b"},
                      {"relayd", "--phone-trunk-register", "http://x"},
                      {"relayd", "--phone-trunk-register-expires", "1"},
                      {"relayd", "--phone-trunk-password", ""}};
    for (size_t i = 0; i < 4; i++) {
        char *a[] = {bad[i][0], bad[i][1], bad[i][2], NULL};
        assert_int_equal(config_load(&cfg, 3, a, err, sizeof err), -1);
        assert_non_null(strstr(err, "bad value"));
        config_free(&cfg);
    }
}

static void bad_input_is_named(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char *a1[] = {"relayd", "--ws-listen", "nonsense", NULL};
    assert_int_equal(config_load(&cfg, 3, a1, err, sizeof err), -1);
    assert_non_null(strstr(err, "ws_listen"));
    config_free(&cfg);
    char *a2[] = {"relayd", "--bogus", "1", NULL};
    assert_int_equal(config_load(&cfg, 3, a2, err, sizeof err), -1);
    assert_non_null(strstr(err, "bogus: unknown setting"));
    config_free(&cfg);
    /* a bad credential value is reported without echoing it */
    char *a3[] = {"relayd", "--auth", "no-colon-secret", NULL};
    assert_int_equal(config_load(&cfg, 3, a3, err, sizeof err), -1);
    assert_null(strstr(err, "no-colon-secret"));
    config_free(&cfg);
    /* phone_trunk: a sip URI with exactly one {number} */
    static const char *const bad_trunks[] = {"http://{number}@x", "sip:trunk@x",
                                             "sip:{number}{number}@x", NULL};
    for (int i = 0; bad_trunks[i]; i++) {
        char *a[] = {"relayd", "--phone-trunk", (char *)bad_trunks[i], NULL};
        assert_int_equal(config_load(&cfg, 3, a, err, sizeof err), -1);
        assert_non_null(strstr(err, "phone_trunk"));
        config_free(&cfg);
    }
    char *a4[] = {"relayd", "--phone-trunk", "sip:{number}@10.0.0.1:5060", NULL};
    assert_int_equal(config_load(&cfg, 3, a4, err, sizeof err), 0);
    assert_string_equal(cfg.phone_trunk, "sip:{number}@10.0.0.1:5060");
    config_free(&cfg);
}

static void validation_guards_exposure(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char *a1[] = {"relayd", "--ws-listen", "0.0.0.0:8443", "--plain", NULL};
    assert_int_equal(config_load(&cfg, 4, a1, err, sizeof err), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "loopback"));
    config_free(&cfg);
    char *a2[] = {"relayd", "--tls-cert", "/x.pem", NULL};
    assert_int_equal(config_load(&cfg, 3, a2, err, sizeof err), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "tls-key"));
    config_free(&cfg);
    /* records' urls name recordings_listen's address: a wildcard is none */
    char *a3[] = {"relayd", "--recordings-listen", "0.0.0.0:8088", NULL};
    assert_int_equal(config_load(&cfg, 3, a3, err, sizeof err), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "recordings_listen"));
    config_free(&cfg);
    char *a4[] = {"relayd", "--recordings-listen", "127.0.0.1:8088", NULL};
    assert_int_equal(config_load(&cfg, 3, a4, err, sizeof err), 0);
    assert_int_equal(config_validate(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.recordings_ip, "127.0.0.1");
    assert_int_equal(cfg.recordings_port, 8088);
    config_free(&cfg);
}

/* The JWT secret comes from a file, whole but for trailing newlines; too
 * short, too long or missing is an error naming the key, never the value. */
static void jwt_secret_file_is_read_and_checked(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char path[64];
    snprintf(path, sizeof path, "jwt-secret-unit-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("0123456789abcdef0123456789abcdef-tail\r\n\n", f);
    fclose(f);
    char *a1[] = {"relayd", "--jwt-secret-file", path, NULL};
    assert_int_equal(config_load(&cfg, 3, a1, err, sizeof err), 0);
    assert_int_equal(cfg.jwt_secret_len, 37);
    assert_memory_equal(cfg.jwt_secret, "0123456789abcdef0123456789abcdef-tail", 37);
    assert_int_equal(cfg.ping_interval_ms, 10000); /* under realtime-api's 15 s watchdog */
    config_free(&cfg);

    f = fopen(path, "w");
    fputs("short-secret\n", f);
    fclose(f);
    assert_int_equal(config_load(&cfg, 3, a1, err, sizeof err), -1);
    assert_non_null(strstr(err, "jwt_secret_file: the secret must be 32 to 4096 bytes"));
    assert_null(strstr(err, "short-secret"));
    config_free(&cfg);

    f = fopen(path, "w");
    for (int i = 0; i < 5000; i++)
        fputc('k', f);
    fclose(f);
    assert_int_equal(config_load(&cfg, 3, a1, err, sizeof err), -1);
    assert_non_null(strstr(err, "32 to 4096 bytes"));
    config_free(&cfg);

    unlink(path);
    assert_int_equal(config_load(&cfg, 3, a1, err, sizeof err), -1);
    assert_non_null(strstr(err, "jwt_secret_file: cannot open"));
    config_free(&cfg);
}

static void credentials_from_the_environment(void **state)
{
    (void)state;
    relayd_config cfg;
    char err[256];
    char *argv[] = {"relayd", "--auth", "p3:flag-token", NULL};
    setenv("RELAYD_AUTH", "p1:env-token-1, p2:env-token-2", 1);
    assert_int_equal(config_load(&cfg, 3, argv, err, sizeof err), 0);
    assert_true(config_auth_check(&cfg, "p1", "env-token-1"));
    assert_true(config_auth_check(&cfg, "p2", "env-token-2"));
    assert_true(config_auth_check(&cfg, "p3", "flag-token"));
    assert_false(config_auth_check(&cfg, "dev", "dev")); /* credentials given: no dev pair */
    config_free(&cfg);
    /* a malformed entry is named without its value */
    setenv("RELAYD_AUTH", "p1:ok secret-without-colon", 1);
    assert_int_equal(config_load(&cfg, 1, argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "RELAYD_AUTH"));
    assert_null(strstr(err, "secret-without-colon"));
    config_free(&cfg);
    unsetenv("RELAYD_AUTH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_a_loopback_dev_instance),
        cmocka_unit_test(credentials_from_the_environment),
        cmocka_unit_test(file_then_flags),
        cmocka_unit_test(trunk_keys),
        cmocka_unit_test(bad_input_is_named),
        cmocka_unit_test(validation_guards_exposure),
        cmocka_unit_test(jwt_secret_file_is_read_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
