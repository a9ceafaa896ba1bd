/*
 * fuzz_oauth2.c - libFuzzer harness for what ferry reads from a
 * provider's token endpoint and profile call.
 *
 * Whatever the answer, the parsers return; accepted tokens always have
 * an access token and a type, and a user id is never empty or over its
 * ceiling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/oauth2.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    struct arena a;
    struct oauth2_tokens t;
    const char *id = NULL;

    arena_init(&a, 1 << 22);
    if (oauth2_token_parse(200, (const char *)data, n, &a, &t, NULL) == 0) {
        if (t.access_token == NULL || t.token_type == NULL ||
            t.access_token[0] == '\0') {
            abort();
        }
    }
    if (oauth2_user_id((const char *)data, n, "user.id", &a, &id, NULL) == 0) {
        if (id == NULL || id[0] == '\0' || strlen(id) > OAUTH2_USER_ID_MAX) {
            abort();
        }
    }
    arena_release(&a);
    return 0;
}
