/*
 * The librelay client most integration tests drive relayd with: plain
 * ws:// to 127.0.0.1:port, the test's project and token, calls on one
 * context handed to on_call, 5 s per request. Connected, or the test
 * fails.
 */
#ifndef RELAY_TESTS_OFFICE_CLIENT_H
#define RELAY_TESTS_OFFICE_CLIENT_H

#include <relay/relay.h>

relay_client *office_client_connect(int port, const char *project, const char *token,
                                    const char *context, relay_call_handler on_call, void *user);

#endif
