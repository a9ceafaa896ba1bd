/*
 * login.h - how ferry logs a user in to each built-in provider.
 *
 * The facts of each provider's OAuth 2.0 authorization server: its
 * endpoints, the scopes to ask for (in the provider's own separator),
 * whether it takes PKCE, how the client authenticates at its token
 * endpoint, and where the provider's own user id is found. A
 * `[provider NAME]` section may override every endpoint (tests point
 * them at local servers). A generic `type = oauth2` provider has no
 * entry here: its section says everything.
 */
#ifndef FERRY_PROVIDERS_LOGIN_H
#define FERRY_PROVIDERS_LOGIN_H

/* Where ferry's own SANDBOX provider (src/sandbox/) serves its
 * authorization server, under ferry's public URL. */
#define PROVIDER_SANDBOX_AUTHORIZE "/sandbox/oauth/authorize"
#define PROVIDER_SANDBOX_TOKEN     "/sandbox/oauth/token"
#define PROVIDER_SANDBOX_REVOKE    "/sandbox/oauth/revoke"
#define PROVIDER_SANDBOX_USERINFO  "/sandbox/api/v1/userinfo"
#define PROVIDER_SANDBOX_SCOPES    "activity sleep daily body"
#define PROVIDER_SANDBOX_CLIENT_ID "ferry"

enum provider_quirk {
    /* the token endpoint wants `action=requesttoken` and wraps its
     * answer as {"status":0,"body":{...}} (Withings) */
    PROVIDER_Q_WRAPPED_TOKEN = 1 << 0,
};

/* Data types (Terra's) a provider has, for /v2/integrations/detailed. */
enum provider_type {
    PROVIDER_T_ACTIVITY = 1 << 0,
    PROVIDER_T_BODY = 1 << 1,
    PROVIDER_T_DAILY = 1 << 2,
    PROVIDER_T_SLEEP = 1 << 3,
    PROVIDER_T_NUTRITION = 1 << 4,
    PROVIDER_T_MENSTRUATION = 1 << 5,
};

struct provider_login {
    const char *resource;
    const char *authorize_url;
    const char *token_url;
    const char *revoke_url;    /* NULL: no revocation endpoint */
    const char *userinfo_url;  /* NULL: the user id is in the token answer */
    const char *user_id_field; /* dotted path in that answer */
    const char *scopes;        /* as the provider wants them joined */
    int pkce;                  /* 1: S256 */
    int auth_post;             /* 1: client_secret_post, 0: _basic */
    unsigned quirks;           /* enum provider_quirk bits */
    unsigned types;            /* enum provider_type bits */
};

/* The built-in login of `resource` (any case), or NULL when ferry has
 * none. SANDBOX's endpoints are paths under ferry's own public URL.
 * Static. */
const struct provider_login *provider_login(const char *resource);

#endif
