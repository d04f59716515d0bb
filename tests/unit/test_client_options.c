/*
 * Client options: every malformed or missing setting is refused with a
 * reason that names it (relay_last_error), from code or from the
 * environment, and never with a secret's value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <relay/relay.h>

static void base(relay_client_options *o)
{
    relay_client_options_init(o);
    o->host = "example.signalwire.com";
    o->project = "p-1";
    o->token = "t-1";
}

static void refused(relay_client_options *o, const char *names)
{
    assert_int_equal(relay_client_options_check(o), RELAY_ERR_INVALID_ARG);
    if (!strstr(relay_last_error(), names))
        fail_msg("\"%s\" does not name %s", relay_last_error(), names);
    relay_client *c = (relay_client *)1;
    assert_int_equal(relay_client_new(o, &c), RELAY_ERR_INVALID_ARG);
    assert_null(c);
    assert_non_null(strstr(relay_last_error(), names)); /* new says the same */
}

static void hosts_that_are_not_hosts_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "wss://example.signalwire.com", "user@example.com", "example.com/relay",
        "example.com\r\nX-Evil: 1", "exa mple.com", "example.com\tx", "example.com?x=1",
        "example.com#frag", "example.com:0", "example.com:70000", "example.com:12ab",
        "[::1", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        relay_client_options o;
        base(&o);
        o.host = bad[i];
        refused(&o, "host");
    }
    relay_client_options o;
    base(&o);
    o.host = NULL;
    refused(&o, "host");

    static const char *const good[] = {"example.signalwire.com", "127.0.0.1:8443", "[::1]:8080",
                                       "::1", "relay.local"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        base(&o);
        o.host = good[i];
        assert_int_equal(relay_client_options_check(&o), RELAY_OK);
        assert_string_equal(relay_last_error(), "");
    }
}

static void missing_credentials_are_named(void **state)
{
    (void)state;
    relay_client_options o;
    base(&o);
    o.project = NULL;
    o.token = NULL;
    refused(&o, "credentials");
    base(&o);
    o.token = "";
    refused(&o, "token");
    base(&o);
    o.project = NULL;
    refused(&o, "project");
    base(&o);
    o.project = o.token = NULL;
    o.jwt_token = "eyJhbGciOiJIUzI1NiJ9.e30.sig";
    assert_int_equal(relay_client_options_check(&o), RELAY_OK);
    base(&o);
    o.port = 65536;
    refused(&o, "port");
    base(&o);
    o.max_active_calls = -1;
    refused(&o, "max_active_calls");
}

static void environment_fills_and_names_what_is_malformed(void **state)
{
    (void)state;
    setenv("SIGNALWIRE_SPACE", "space.example.com:9443", 1);
    setenv("SIGNALWIRE_PROJECT_ID", "proj-env", 1);
    unsetenv("SIGNALWIRE_API_TOKEN");
    setenv("SIGNALWIRE_TOKEN", "tok-env", 1);
    setenv("SIGNALWIRE_CONTEXTS", " office, sales,,support ", 1);
    setenv("SIGNALWIRE_LOG_LEVEL", "DEBUG", 1);
    setenv("RELAY_MAX_ACTIVE_CALLS", "25", 1);
    relay_client_options o;
    relay_client_options_init(&o);
    assert_int_equal(relay_client_options_from_env(&o), RELAY_OK);
    assert_string_equal(o.host, "space.example.com:9443");
    assert_string_equal(o.project, "proj-env");
    assert_string_equal(o.token, "tok-env");
    assert_string_equal(o.contexts_csv, " office, sales,,support ");
    assert_int_equal(o.log_level, RELAY_LOG_DEBUG);
    assert_int_equal(o.max_active_calls, 25);
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    relay_client_free(c);

    setenv("SIGNALWIRE_LOG_LEVEL", "loud", 1);
    relay_client_options_init(&o);
    assert_int_equal(relay_client_options_from_env(&o), RELAY_ERR_INVALID_ARG);
    assert_non_null(strstr(relay_last_error(), "SIGNALWIRE_LOG_LEVEL"));
    assert_string_equal(o.project, "proj-env"); /* the rest still applied */
    assert_int_equal(o.log_level, RELAY_LOG_WARN);
    unsetenv("SIGNALWIRE_LOG_LEVEL");

    static const char *const bad_counts[] = {"0", "-3", "ten", "12x", "99999999999"};
    for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
        setenv("RELAY_MAX_ACTIVE_CALLS", bad_counts[i], 1);
        relay_client_options_init(&o);
        assert_int_equal(relay_client_options_from_env(&o), RELAY_ERR_INVALID_ARG);
        assert_non_null(strstr(relay_last_error(), "RELAY_MAX_ACTIVE_CALLS"));
    }
    unsetenv("RELAY_MAX_ACTIVE_CALLS");

    /* a URL in SIGNALWIRE_SPACE: refused when the client is made, by name */
    setenv("SIGNALWIRE_SPACE", "https://space.example.com", 1);
    relay_client_options_init(&o);
    assert_int_equal(relay_client_options_from_env(&o), RELAY_OK);
    refused(&o, "scheme");
    assert_null(strstr(relay_last_error(), "tok-env"));
    for (const char *v = "SIGNALWIRE_SPACE\0SIGNALWIRE_PROJECT_ID\0SIGNALWIRE_TOKEN\0"
                         "SIGNALWIRE_CONTEXTS\0";
         *v; v += strlen(v) + 1)
        unsetenv(v);
}

static void connection_state_names(void **state)
{
    (void)state;
    assert_string_equal(relay_connection_state_name(RELAY_CONNECTION_CONNECTING), "connecting");
    assert_string_equal(relay_connection_state_name(RELAY_CONNECTION_CONNECTED), "connected");
    assert_string_equal(relay_connection_state_name(RELAY_CONNECTION_RESUMED), "resumed");
    assert_string_equal(relay_connection_state_name(RELAY_CONNECTION_DISCONNECTED),
                        "disconnected");
    assert_string_equal(relay_connection_state_name(RELAY_CONNECTION_FAILED), "failed");
}

/* relay_media's constructors set the type and only their own fields, and
 * the items they make are what relay_call_play sends (unit.test_golden). */
static void media_constructors(void **state)
{
    (void)state;
    relay_media m = relay_media_tts("hello");
    assert_string_equal(m.type, "tts");
    assert_string_equal(m.text, "hello");
    assert_null(m.url);
    assert_null(m.language);
    m = relay_media_audio("https://example.com/a.wav");
    assert_string_equal(m.type, "audio");
    assert_string_equal(m.url, "https://example.com/a.wav");
    assert_null(m.text);
    m = relay_media_silence(1.5);
    assert_string_equal(m.type, "silence");
    assert_true(m.duration == 1.5);
    m = relay_media_ringtone("uk", 3);
    assert_string_equal(m.type, "ringtone");
    assert_string_equal(m.name, "uk");
    assert_true(m.duration == 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_that_are_not_hosts_are_refused),
        cmocka_unit_test(missing_credentials_are_named),
        cmocka_unit_test(environment_fills_and_names_what_is_malformed),
        cmocka_unit_test(connection_state_names),
        cmocka_unit_test(media_constructors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
