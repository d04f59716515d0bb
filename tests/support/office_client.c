#include "office_client.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

relay_client *office_client_connect(int port, const char *project, const char *token,
                                    const char *context, relay_call_handler on_call, void *user)
{
    const char *contexts[] = {context, NULL}; /* relay_client_new copies them */
    relay_client_options o;
    relay_client_options_init(&o);
    o.host = "127.0.0.1";
    o.port = port;
    o.plain_ws = 1;
    o.project = project;
    o.token = token;
    o.contexts = contexts;
    o.request_timeout_ms = 5000;
    relay_client *c = NULL;
    assert_int_equal(relay_client_new(&o, &c), RELAY_OK);
    assert_int_equal(relay_client_on_call(c, on_call, user), RELAY_OK);
    assert_int_equal(relay_client_connect(c), RELAY_OK);
    return c;
}
