/* signalwire.connect's credentials that relayd verifies: a JWT (HS256,
 * auth/jwt.c) and an authorization state from a resume (auth/auth_state.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_state.h"
#include "auth/jwt.h"

static const unsigned char secret[] = "fuzz-secret-0123456789abcdef-0123456789";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    auth_state_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *project = NULL;
    char why[128];
    if (jwt_verify_hs256(s, secret, sizeof secret - 1, 1795000000, &project, why, sizeof why) == 0)
        free(project);
    char session_id[37];
    auth_state_verify(s, "project", session_id);
    free(s);
    return 0;
}
