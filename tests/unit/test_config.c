/*
 * test_config.c - defaults, the INI file, the environment, secret files.
 *
 * Every case writes its files under one mkdtemp() directory, which is also
 * the working directory, so `./ferry.conf` lookups stay inside it.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"
#include "tap.h"

static char dir[64];
static char conf[128];  /* DIR/ferry.conf */
static char path[128];  /* last file written */
static char want[1024]; /* expected message */
static struct err last; /* message of the last check_load() */

static const char *
write_file(const char *name, const char *text, size_t len)
{
    FILE *f = NULL;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static const char *
write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static const char *
write_conf(const char *text)
{
    return write_file("ferry.conf", text, strlen(text));
}

static const char *expect(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *
expect(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    return want;
}

/* Load `file` (may be NULL) with `env`; the result code. */
static int
load(struct config *c, const char *file, char **env, struct err *e)
{
    config_init(c);
    return config_load(c, file, env, e);
}

/*
 * Load `text` (NULL: no file) as ferry.conf with `env`: it must fail with
 * message `msg`, or load cleanly when `msg` is NULL.
 */
static void
check_load(const char *text, char **env, const char *msg, const char *name)
{
    struct config c;
    const char *file = text != NULL ? write_conf(text) : NULL;
    int rc = 0;

    if (file == NULL) {
        unlink("ferry.conf");
    }
    rc = load(&c, file, env, &last);
    is_int(rc, msg != NULL ? ERR_CONFIG : 0, name);
    is_str(last.msg, msg != NULL ? msg : "", name);
    config_release(&c);
}

static void
test_defaults(void)
{
    struct config c;
    struct err e;
    char *env[] = {"HOME=/nonexistent", "FERRYMAN=1", NULL};

    unlink("ferry.conf");
    is_int(load(&c, NULL, env, &e), 0, "defaults: load without a file");
    ok(c.path == NULL, "defaults: no path");
    is_str(c.server_listen, "127.0.0.1:8080", "defaults: listen");
    ok(c.server_public_url == NULL, "defaults: public_url unset");
    is_int(c.server_threads, 0, "defaults: threads");
    is_int(c.server_max_connections, 1024, "defaults: max_connections");
    is_int(c.server_per_ip_connections, 256, "defaults: per_ip");
    is_int(c.server_timeout_seconds, 30, "defaults: timeout");
    is_int(c.server_max_body_bytes, 1048576, "defaults: max_body_bytes");
    is_int(c.server_hook_max_body_bytes, 16777216,
           "defaults: hook_max_body_bytes");
    is_int(c.server_connection_memory, 32768, "defaults: conn memory");
    is_int(c.server_request_memory, 8388608, "defaults: request memory");
    is_str(c.store_url, "sqlite:ferry.db", "defaults: store url");
    is_int(c.store_busy_timeout_ms, 5000, "defaults: busy timeout");
    is_str(c.security_key_file, "ferry.key", "defaults: key_file");
    is_int(c.security_allow_private_destinations, 0, "defaults: private");
    is_int(c.links_default_expires_in, 900, "defaults: link expiry");
    is_int(c.links_min_expires_in, 60, "defaults: link min");
    is_int(c.links_max_expires_in, 604800, "defaults: link max");
    is_int(c.deliver_concurrency, 64, "defaults: concurrency");
    is_int(c.deliver_timeout_seconds, 30, "defaults: deliver timeout");
    is_int(c.deliver_retry_base_seconds, 30, "defaults: retry base");
    is_int(c.deliver_retry_max_seconds, 28800, "defaults: retry max");
    is_int(c.deliver_retries, 10, "defaults: retries");
    is_int(c.deliver_secret_grace_seconds, 86400, "defaults: grace");
    is_int(c.oauth_token_timeout_seconds, 10, "defaults: token timeout");
    is_int(c.sandbox_day_seconds, 86400, "defaults: sandbox day");
    is_str(c.log_level, "info", "defaults: log level");
    is_str(c.log_format, "logfmt", "defaults: log format");
    ok(c.providers == NULL, "defaults: no providers");
    config_release(&c);
}

static const char full[] =
    "; the SPEC example, with values\n"
    "[server]\n"
    "listen = 127.0.0.1:0          ; port 0 = pick a free one\n"
    "public_url = http://127.0.0.1:8080 ; default: the bound address\n"
    "threads = 2\n"
    "max_connections = 512\n"
    "per_ip_connections = 64\n"
    "timeout_seconds = 15\n"
    "max_body_bytes = 2097152\n"
    "connection_memory = 32768\n"
    "request_memory = 1048576\n"
    "\n"
    "[store]\n"
    "url = sqlite:test.db            ; or postgresql://user@host/db\n"
    "busy_timeout_ms = 250\n"
    "\n"
    "[security]\n"
    "key_file = test.key             ; 32 raw bytes or 64 hex digits\n"
    "                                ; (mode 0600) when absent\n"
    "allow_private_destinations = true\n"
    "\n"
    "[links]\n"
    "default_expires_in = 600\n"
    "min_expires_in = 30\n"
    "max_expires_in = 3600\n"
    "\n"
    "[deliver]\n"
    "concurrency = 8\n"
    "timeout_seconds = 5\n"
    "retry_base_seconds = 1          ; delay n = min(base * 2^(n-1), max)\n"
    "retry_max_seconds = 60\n"
    "retries = 3\n"
    "secret_grace_seconds = 120      ; old secret keeps signing\n"
    "\n"
    "[oauth]\n"
    "token_timeout_seconds = 3\n"
    "\n"
    "[sandbox]\n"
    "day_seconds = 10                ; length of a SANDBOX day\n"
    "\n"
    "[log]\n"
    "level = debug\n"
    "format = json\n"
    "\n"
    "[provider oura]                  ; one section per enabled provider\n"
    "client_id = oura-id\n"
    "client_secret = oura-secret;not-a-comment\n"
    "authorize_url = http://127.0.0.1:9/authorize\n"
    "token_url = http://127.0.0.1:9/token\n"
    "api_url = http://127.0.0.1:9/api\n"
    "\n"
    "[provider mycorp]                ; any standard OAuth 2.0 provider\n"
    "type = oauth2\n"
    "authorize_url = https://id.mycorp.example/authorize\n"
    "token_url = https://id.mycorp.example/token\n"
    "userinfo_url = https://id.mycorp.example/userinfo\n"
    "revoke_url = https://id.mycorp.example/revoke\n"
    "user_id_field = sub\n"
    "scopes = openid profile\n"
    "pkce = S256\n"
    "auth_method = client_secret_post\n"
    "webhook_secret = hook\n"
    "client_id: colon-id\n"
    "\n"
    "[provider sandbox]\n";

static void
test_full_file(void)
{
    struct config c;
    struct err e;
    struct config_provider *p = NULL;
    char *env[] = {NULL};
    const char *file = write_conf(full);

    is_int(load(&c, file, env, &e), 0, "full: loads");
    is_str(e.msg, "", "full: no message");
    is_str(c.path, file, "full: path recorded");
    is_str(c.server_listen, "127.0.0.1:0", "full: listen, comment cut");
    is_str(c.server_public_url, "http://127.0.0.1:8080", "full: public_url");
    is_int(c.server_threads, 2, "full: threads");
    is_int(c.server_max_connections, 512, "full: max_connections");
    is_int(c.server_per_ip_connections, 64, "full: per_ip");
    is_int(c.server_timeout_seconds, 15, "full: timeout");
    is_int(c.server_max_body_bytes, 2097152, "full: max body");
    is_int(c.server_connection_memory, 32768, "full: conn memory");
    is_int(c.server_request_memory, 1048576, "full: request memory");
    is_str(c.store_url, "sqlite:test.db", "full: store url");
    is_int(c.store_busy_timeout_ms, 250, "full: busy timeout");
    is_str(c.security_key_file, "test.key", "full: key_file");
    is_int(c.security_allow_private_destinations, 1, "full: private");
    is_int(c.links_default_expires_in, 600, "full: link default");
    is_int(c.links_min_expires_in, 30, "full: link min");
    is_int(c.links_max_expires_in, 3600, "full: link max");
    is_int(c.deliver_concurrency, 8, "full: concurrency");
    is_int(c.deliver_timeout_seconds, 5, "full: deliver timeout");
    is_int(c.deliver_retry_base_seconds, 1, "full: retry base");
    is_int(c.deliver_retry_max_seconds, 60, "full: retry max");
    is_int(c.deliver_retries, 3, "full: retries");
    is_int(c.deliver_secret_grace_seconds, 120, "full: grace");
    is_int(c.oauth_token_timeout_seconds, 3, "full: token timeout");
    is_int(c.sandbox_day_seconds, 10, "full: sandbox day");
    is_str(c.log_level, "debug", "full: log level");
    is_str(c.log_format, "json", "full: log format");

    p = c.providers;
    ok(p != NULL, "full: first provider");
    if (p == NULL) {
        goto out;
    }
    is_str(p->name, "oura", "full: oura first");
    is_str(p->resource, "OURA", "full: oura resource");
    is_int(p->enabled, 1, "full: oura enabled by default");
    ok(p->type == NULL, "full: oura has no type");
    is_str(p->client_id, "oura-id", "full: oura client_id");
    is_str(p->client_secret, "oura-secret;not-a-comment",
           "full: ';' without a space before it is kept");
    is_str(p->token_url, "http://127.0.0.1:9/token", "full: oura token_url");
    is_str(p->api_url, "http://127.0.0.1:9/api", "full: oura api_url");
    p = p->next;
    ok(p != NULL, "full: second provider");
    if (p == NULL) {
        goto out;
    }
    is_str(p->name, "mycorp", "full: mycorp second");
    is_str(p->type, "oauth2", "full: mycorp type");
    is_str(p->userinfo_url, "https://id.mycorp.example/userinfo",
           "full: mycorp userinfo_url");
    is_str(p->revoke_url, "https://id.mycorp.example/revoke",
           "full: mycorp revoke_url");
    is_str(p->user_id_field, "sub", "full: mycorp user_id_field");
    is_str(p->scopes, "openid profile", "full: mycorp scopes");
    is_str(p->pkce, "S256", "full: mycorp pkce");
    is_str(p->auth_method, "client_secret_post", "full: mycorp auth_method");
    is_str(p->webhook_secret, "hook", "full: mycorp webhook_secret");
    is_str(p->client_id, "colon-id", "full: 'key: value' accepted");
    p = p->next;
    ok(p != NULL && strcmp(p->name, "sandbox") == 0,
       "full: a bare [provider sandbox] creates the provider");
    ok(p != NULL && p->next == NULL, "full: three providers");

out:
    config_release(&c);
}

static void
test_env_override(void)
{
    struct config c;
    struct err e;
    char *env[] = {
        "FERRY_SERVER_LISTEN=0.0.0.0:9000",
        "FERRY_LINKS_MAX_EXPIRES_IN=7200",
        "FERRY_SECURITY_ALLOW_PRIVATE_DESTINATIONS=off",
        "FERRY_PROVIDER_OURA_CLIENT_ID=env-id",
        "FERRY_SERVER_PUBLIC_URL=",
        NULL,
    };
    const char *file = write_conf("[server]\n"
                                  "listen = 127.0.0.1:1\n"
                                  "public_url = http://x.example\n"
                                  "[links]\n"
                                  "max_expires_in = 3600\n"
                                  "[security]\n"
                                  "allow_private_destinations = yes\n"
                                  "[provider oura]\n"
                                  "client_id = file-id\n"
                                  "client_secret = file-secret\n");

    is_int(load(&c, file, env, &e), 0, "env: loads");
    is_str(c.server_listen, "0.0.0.0:9000", "env: beats the file");
    is_int(c.links_max_expires_in, 7200, "env: number beats the file");
    is_int(c.security_allow_private_destinations, 0, "env: boolean off");
    ok(c.server_public_url == NULL, "env: empty value unsets a string");
    ok(c.providers != NULL && c.providers->next == NULL, "env: no second oura");
    if (c.providers != NULL) {
        is_str(c.providers->client_id, "env-id", "env: provider key");
        is_str(c.providers->client_secret, "file-secret",
               "env: other provider keys kept");
    }
    config_release(&c);
}

static void
test_env_provider(void)
{
    struct config c;
    struct err e;
    struct config_provider *p = NULL;
    char *env[] = {
        "FERRY_PROVIDER_GOOGLE_HEALTH_CLIENT_ID=g-id",
        "FERRY_PROVIDER_GOOGLE_HEALTH_CLIENT_SECRET=g-secret",
        "FERRY_PROVIDER_MY_CORP_USER_ID_FIELD=email",
        "FERRY_PROVIDER_MY_CORP_TYPE=oauth2",
        "FERRY_PROVIDER_MY_CORP_AUTHORIZE_URL=https://a.example/auth",
        "FERRY_PROVIDER_MY_CORP_TOKEN_URL=https://a.example/token",
        "FERRY_PROVIDER_SANDBOX_ENABLED=false",
        "FERRY_CONFIG=",
        "PATH=/usr/bin",
        NULL,
    };

    unlink("ferry.conf");
    is_int(load(&c, NULL, env, &e), 0, "env provider: loads");
    is_str(e.msg, "", "env provider: no message");
    p = config_provider(&c, "google_health");
    ok(p != NULL, "env provider: creates [provider google_health]");
    if (p != NULL) {
        is_str(p->resource, "GOOGLE_HEALTH", "env provider: resource");
        is_str(p->client_id, "g-id", "env provider: longest key client_id");
        is_str(p->client_secret, "g-secret", "env provider: client_secret");
        is_int(p->enabled, 1, "env provider: enabled");
    }
    p = config_provider(&c, "my_corp");
    ok(p != NULL, "env provider: creates [provider my_corp]");
    if (p != NULL) {
        is_str(p->user_id_field, "email", "env provider: user_id_field");
        is_str(p->type, "oauth2", "env provider: type");
    }
    p = config_provider(&c, "sandbox");
    ok(p != NULL && p->enabled == 0, "env provider: enabled=false");
    ok(config_provider(&c, "google") == NULL, "env provider: no 'google'");
    config_release(&c);
}

static void
test_config_path(void)
{
    struct config c;
    struct err e;
    char var[300];
    char *env[] = {var, NULL};
    char *none[] = {NULL};
    char file[128];

    snprintf(file, sizeof(file), "%s",
             write_text("other.conf", "[server]\nthreads = 3\n"));
    snprintf(var, sizeof(var), "FERRY_CONFIG=%s", file);
    write_conf("[server]\nthreads = 4\n");
    is_int(load(&c, NULL, env, &e), 0, "path: FERRY_CONFIG");
    is_int(c.server_threads, 3, "path: FERRY_CONFIG beats ./ferry.conf");
    is_str(c.path, file, "path: FERRY_CONFIG recorded");
    config_release(&c);

    is_int(load(&c, NULL, none, &e), 0, "path: ./ferry.conf");
    is_int(c.server_threads, 4, "path: ./ferry.conf read");
    is_str(c.path, "ferry.conf", "path: ./ferry.conf recorded");
    config_release(&c);

    is_int(load(&c, "ferry.conf", env, &e), 0, "path: explicit");
    is_int(c.server_threads, 4, "path: explicit beats FERRY_CONFIG");
    config_release(&c);

    is_int(load(&c, "missing.conf", none, &e), ERR_CONFIG,
           "path: missing explicit file");
    is_str(e.msg, "missing.conf: cannot open: No such file or directory",
           "path: missing explicit file message");
    config_release(&c);
}

static void
test_unknown(void)
{
    char *none[] = {NULL};
    char *env[] = {"FERRY_SERVER_LISTN=1", NULL};
    char *env2[] = {"FERRY_SEVER_LISTEN=1", NULL};
    char *env3[] = {"FERRY_server_listen=1", NULL};
    char *env4[] = {"FERRY_PROVIDER_OURA=1", NULL};
    char *env5[] = {"FERRY_PROVIDER_CLIENT_ID=1", NULL};
    char *env6[] = {"FERRY_SECURITY_KEY_FILE_FILE=x", NULL};

    check_load("[server]\n"
               "listen = 127.0.0.1:1\n"
               "\n"
               "; comment\n"
               "lisen = 127.0.0.1:2\n",
               none,
               expect("%s:5: unknown key 'lisen' in section [server]", conf),
               "unknown key");
    check_load("[server]\nthreads = 1\n[sever]\nlisten = x\n", none,
               expect("%s:3: unknown section [sever]", conf),
               "unknown section");
    check_load("[server]\n[sever]\n", none,
               expect("%s:2: unknown section [sever]", conf),
               "unknown empty section");
    check_load("[provider oura]\nclient_ids = x\n", none,
               expect("%s:2: unknown key 'client_ids' in section "
                      "[provider oura]",
                      conf),
               "unknown provider key");
    check_load("listen = x\n", none,
               expect("%s:1: key 'listen' is outside any section", conf),
               "key outside any section");
    check_load(NULL, env, "environment: unknown variable FERRY_SERVER_LISTN",
               "unknown env key");
    check_load(NULL, env2, "environment: unknown variable FERRY_SEVER_LISTEN",
               "unknown env section");
    check_load(NULL, env3, "environment: unknown variable FERRY_server_listen",
               "env names are upper case");
    check_load(NULL, env4, "environment: unknown variable FERRY_PROVIDER_OURA",
               "env provider without key");
    check_load(NULL, env5,
               "environment: unknown variable FERRY_PROVIDER_CLIENT_ID",
               "env provider without name");
    check_load(NULL, env6,
               "environment: unknown variable FERRY_SECURITY_KEY_FILE_FILE",
               "no _file form of a key ending in _file");
}

static void
test_lines(void)
{
    char text[512];
    char *none[] = {NULL};

    snprintf(text, sizeof(text), "[server]\nthreads = 1\npublic_url = %0300d\n",
             0);
    check_load(text, none,
               expect("%s:3: line too long (lines are limited to 200 bytes "
                      "including the newline; give long values in a *_file "
                      "key or the environment)",
                      conf),
               "300-byte line");
    snprintf(text, sizeof(text), "[server]\npublic_url = %0186d\n", 0);
    check_load(text, none, NULL, "199-byte line fits");
    snprintf(text, sizeof(text), "[server]\npublic_url = %0187d\n", 0);
    check_load(text, none,
               expect("%s:2: line too long (lines are limited to 200 bytes "
                      "including the newline; give long values in a *_file "
                      "key or the environment)",
                      conf),
               "200-byte line without its newline is too long");
    check_load("[server]\nthreads = 1\nthreads 2\n", none,
               expect("%s:3: cannot parse this line, expected [section] or "
                      "key = value (lines are limited to 200 bytes including "
                      "the newline; give long values in a *_file key or the "
                      "environment)",
                      conf),
               "line without '='");
    check_load("[server]\nthreads = 1\n  listen = x\n", none,
               expect("%s:3: indented line; continuation lines are not "
                      "supported, start keys and sections in column 1",
                      conf),
               "indented line");
    check_load("[server\n", none,
               expect("%s:1: section header without ']'", conf),
               "section without ']'");
    check_load(
        "[server]\nthreads = 1\nthreads = 2\n", none,
        expect("%s:3: [server] threads: given twice (also at line 2)", conf),
        "key given twice");
    check_load("\xEF\xBB\xBF[server]\r\nthreads = 2\r\n", none, NULL,
               "byte order mark and CRLF");
}

static void
test_values(void)
{
    char *none[] = {NULL};
    char *env[] = {"FERRY_LINKS_MAX_EXPIRES_IN=abc", NULL};
    char *env2[] = {"FERRY_SERVER_THREADS= 2", NULL};

    check_load(
        "[server]\n[links]\n\n\n\n\nmin_expires_in = abc\n", none,
        expect("%s:7: [links] min_expires_in: 'abc' is not an integer", conf),
        "bad integer");
    check_load(
        "[links]\nmin_expires_in = 12x\n", none,
        expect("%s:2: [links] min_expires_in: '12x' is not an integer", conf),
        "trailing garbage");
    check_load("[links]\nmin_expires_in = 0\n", none,
               expect("%s:2: [links] min_expires_in: '0' is out of range "
                      "(1 to 31536000)",
                      conf),
               "out of range");
    check_load("[server]\nthreads = -1\n", none,
               expect("%s:2: [server] threads: '-1' is out of range "
                      "(0 to 1024)",
                      conf),
               "negative out of range");
    check_load("[server]\nmax_body_bytes = 99999999999999999999\n", none,
               expect("%s:2: [server] max_body_bytes: '99999999999999999999' "
                      "is out of range (1 to 1073741824)",
                      conf),
               "overflow");
    check_load("[server]\nthreads =\n", none,
               expect("%s:2: [server] threads: empty value, expected an "
                      "integer",
                      conf),
               "empty integer");
    check_load("[security]\nallow_private_destinations = maybe\n", none,
               expect("%s:2: [security] allow_private_destinations: 'maybe' "
                      "is not a boolean (true/false, yes/no, on/off, 1/0)",
                      conf),
               "bad boolean");
    check_load("[log]\nlevel = verbose\n", none,
               expect("%s:2: [log] level: 'verbose' is not one of debug, "
                      "info, warn, error, crit",
                      conf),
               "bad log level");
    check_load(
        "[log]\nformat = xml\n", none,
        expect("%s:2: [log] format: 'xml' is not one of logfmt, json", conf),
        "bad log format");
    check_load("[provider x]\npkce = plain\n", none,
               expect("%s:2: [provider x] pkce: 'plain' is not one of S256, "
                      "none",
                      conf),
               "bad pkce");
    check_load("[provider x]\nauth_method = none\n", none,
               expect("%s:2: [provider x] auth_method: 'none' is not one of "
                      "client_secret_basic, client_secret_post",
                      conf),
               "bad auth_method");
    check_load(
        "[provider x]\ntype = saml\n", none,
        expect("%s:2: [provider x] type: 'saml' is not one of oauth2", conf),
        "bad provider type");
    check_load("[server]\nlisten =\n", none,
               expect("%s:2: [server] listen: must not be empty", conf),
               "empty required string");
    check_load(NULL, env,
               "environment: FERRY_LINKS_MAX_EXPIRES_IN: 'abc' is not an "
               "integer",
               "bad integer from the environment");
    check_load(NULL, env2,
               "environment: FERRY_SERVER_THREADS: ' 2' is not an integer",
               "environment values are not trimmed");
    check_load("[links]\ndefault_expires_in = 30\n", none,
               "configuration: [links] needs min_expires_in (60) <= "
               "default_expires_in (30) <= max_expires_in (604800)",
               "link expiry order");
}

static void
test_value_files(void)
{
    struct config c;
    struct err e;
    char big[CONFIG_FILE_MAX + 1];
    char secret[128];
    char file_var[300];
    char both_var[300];
    char *none[] = {NULL};
    char *env[] = {file_var, NULL};
    char *env_both[] = {"FERRY_PROVIDER_OURA_CLIENT_SECRET=s3cr3t", both_var,
                        NULL};
    char text[600];
    const char *file = NULL;

    write_text("secret", "top-secret\n");
    snprintf(secret, sizeof(secret), "%s", path);
    snprintf(text, sizeof(text),
             "[provider oura]\nclient_secret_file = %s\n"
             "[store]\nurl_file = %s\n",
             secret, secret);
    file = write_conf(text);
    is_int(load(&c, file, none, &e), 0, "file: K_file loads");
    ok(c.providers != NULL && c.providers->client_secret != NULL &&
           strcmp(c.providers->client_secret, "top-secret") == 0,
       "file: contents without the trailing newline");
    is_str(c.store_url, "top-secret", "file: K_file of a global key");
    config_release(&c);

    snprintf(file_var, sizeof(file_var),
             "FERRY_PROVIDER_OURA_CLIENT_SECRET_FILE=%s", secret);
    is_int(load(&c, NULL, env, &e), 0, "file: env K_FILE loads");
    ok(c.providers != NULL && c.providers->client_secret != NULL &&
           strcmp(c.providers->client_secret, "top-secret") == 0,
       "file: FERRY_PROVIDER_OURA_CLIENT_SECRET_FILE");
    config_release(&c);

    memset(big, 'x', sizeof(big));
    write_file("big", big, sizeof(big));
    snprintf(text, sizeof(text), "[provider oura]\nclient_secret_file = %s\n",
             path);
    snprintf(want, sizeof(want),
             "%s/ferry.conf:2: [provider oura] client_secret_file: '%s' is "
             "larger than %d bytes",
             dir, path, CONFIG_FILE_MAX);
    check_load(text, none, want, "file: too big");
    write_file("max", big, CONFIG_FILE_MAX);
    snprintf(text, sizeof(text), "[provider oura]\nclient_secret_file = %s\n",
             path);
    check_load(text, none, NULL, "file: CONFIG_FILE_MAX bytes fit");

    snprintf(text, sizeof(text), "[provider oura]\nclient_secret_file = %s\n",
             "/nonexistent/secret");
    check_load(text, none,
               expect("%s:2: [provider oura] client_secret_file: cannot read "
                      "'/nonexistent/secret': No such file or directory",
                      conf),
               "file: missing");
    check_load("[provider oura]\nclient_secret_file = /\n", none,
               expect("%s:2: [provider oura] client_secret_file: '/' is not a "
                      "regular file",
                      conf),
               "file: a directory");

    write_file("nul", "ab\0cd", 5);
    snprintf(text, sizeof(text), "[server]\npublic_url_file = %s\n", path);
    snprintf(want, sizeof(want),
             "%s/ferry.conf:2: [server] public_url_file: '%s' contains a NUL "
             "byte",
             dir, path);
    check_load(text, none, want, "file: NUL byte");

    snprintf(text, sizeof(text),
             "[provider oura]\nclient_secret = s3cr3t\n"
             "client_secret_file = %s\n",
             secret);
    check_load(text, none,
               expect("%s:3: [provider oura] client_secret_file: both "
                      "client_secret and client_secret_file are given (the "
                      "other at line 2)",
                      conf),
               "file: both K and K_file");
    ok(strstr(last.msg, "s3cr3t") == NULL, "file: no secret in the message");

    snprintf(both_var, sizeof(both_var),
             "FERRY_PROVIDER_OURA_CLIENT_SECRET_FILE=%s", secret);
    check_load(NULL, env_both,
               "environment: FERRY_PROVIDER_OURA_CLIENT_SECRET_FILE: both "
               "client_secret and client_secret_file are given (the other at "
               "FERRY_PROVIDER_OURA_CLIENT_SECRET)",
               "file: both K and K_FILE in the environment");

    write_text("level", "loud\n");
    snprintf(text, sizeof(text), "[log]\nlevel_file = %s\n", path);
    snprintf(want, sizeof(want),
             "%s/ferry.conf:2: [log] level_file: the value in '%s' is not "
             "one of debug, info, warn, error, crit",
             dir, path);
    check_load(text, none, want, "file: contents never quoted");
}

static void
test_provider_names(void)
{
    struct config c;
    struct err e;
    char *none[] = {NULL};
    char *env[] = {"FERRY_PROVIDER_ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789_"
                   "CLIENT_ID=x",
                   NULL};

    check_load("[provider Oura]\n", none,
               expect("%s:1: invalid provider name 'Oura': use 1 to 32 of "
                      "a-z, 0-9 and _",
                      conf),
               "names: upper case refused");
    check_load("[provider my-corp]\nclient_id = x\n", none,
               expect("%s:1: invalid provider name 'my-corp': use 1 to 32 of "
                      "a-z, 0-9 and _",
                      conf),
               "names: '-' refused");
    check_load("[provider]\n", none,
               expect("%s:1: section [provider] needs a name: "
                      "[provider NAME]",
                      conf),
               "names: missing name");
    check_load(NULL, env,
               "environment: FERRY_PROVIDER_ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
               "0123456789_CLIENT_ID: provider name longer than 32 "
               "characters",
               "names: too long in the environment");

    config_init(&c);
    ok(config_provider_add(&c, "Oura") == NULL, "names: add refuses 'Oura'");
    ok(config_provider_add(&c, "") == NULL, "names: add refuses ''");
    ok(config_provider_add(&c, "a b") == NULL, "names: add refuses 'a b'");
    ok(config_provider_add(&c, "abcdefghijklmnopqrstuvwxyz_012345") == NULL,
       "names: add refuses 33 characters");
    ok(config_provider_add(&c, "abcdefghijklmnopqrstuvwxyz_01234") != NULL,
       "names: add takes 32 characters");
    (void)e;
    config_release(&c);
}

static void
test_provider_rules(void)
{
    struct config c;
    struct err e;
    char *none[] = {NULL};
    char *env[] = {"FERRY_PROVIDER_MYCORP_TOKEN_URL=https://t.example", NULL};
    const char *file = NULL;

    check_load("[provider mycorp]\ntype = oauth2\n"
               "authorize_url = https://a.example\n",
               none,
               "configuration: [provider mycorp]: type = oauth2 needs "
               "token_url",
               "rules: oauth2 without token_url");
    check_load("[provider mycorp]\ntype = oauth2\n"
               "token_url = https://t.example\n",
               none,
               "configuration: [provider mycorp]: type = oauth2 needs "
               "authorize_url",
               "rules: oauth2 without authorize_url");

    file = write_conf("[provider mycorp]\ntype = oauth2\n"
                      "authorize_url = https://a.example\n");
    is_int(load(&c, file, env, &e), 0, "rules: env completes the provider");
    config_release(&c);

    file = write_conf("[provider oura]\nenabled = false\n"
                      "[provider withings]\nenabled = 1\n");
    is_int(load(&c, file, none, &e), 0, "rules: enabled loads");
    ok(config_provider(&c, "oura") != NULL &&
           config_provider(&c, "oura")->enabled == 0,
       "rules: enabled = false");
    ok(config_provider(&c, "withings") != NULL &&
           config_provider(&c, "withings")->enabled == 1,
       "rules: enabled = 1");
    config_release(&c);
}

static void
test_provider_api(void)
{
    struct config c;
    struct config_provider *a = NULL;
    struct config_provider *b = NULL;

    config_init(&c);
    ok(config_provider(&c, "oura") == NULL, "api: none yet");
    a = config_provider_add(&c, "oura");
    ok(a != NULL, "api: add creates");
    if (a == NULL) {
        goto out;
    }
    is_str(a->name, "oura", "api: name");
    is_str(a->resource, "OURA", "api: resource");
    is_int(a->enabled, 1, "api: enabled");
    ok(a->client_id == NULL && a->type == NULL && a->pkce == NULL,
       "api: keys unset");
    b = config_provider_add(&c, "google_health");
    ok(config_provider_add(&c, "oura") == a, "api: add finds the existing");
    ok(c.providers == a && a->next == b && b->next == NULL,
       "api: kept in the order first seen");
    ok(config_provider(&c, "OURA") == a, "api: lookup by resource");
    ok(config_provider(&c, "Oura") == a, "api: lookup ignores case");
    ok(config_provider(&c, "GOOGLE_HEALTH") == b, "api: lookup second");
    ok(config_provider(&c, "google") == NULL, "api: no prefix match");
    ok(config_provider(&c, NULL) == NULL, "api: NULL name");

out:
    config_release(&c);
    ok(c.providers == NULL && c.server_listen == NULL, "api: release clears");
    config_init(&c);
    is_str(c.server_listen, "127.0.0.1:8080", "api: init again");
    config_release(&c);
}

/* Remove the files of `dir` (it has no subdirectories) and `dir`. */
static void
remove_dir(void)
{
    char name[512];
    struct dirent *d = NULL;
    DIR *dp = opendir(dir);

    if (dp == NULL) {
        return;
    }
    for (d = readdir(dp); d != NULL; d = readdir(dp)) {
        if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
            snprintf(name, sizeof(name), "%s/%s", dir, d->d_name);
            unlink(name);
        }
    }
    closedir(dp);
    if (rmdir(dir) < 0) {
        printf("# could not remove %s\n", dir);
    }
}

int
main(void)
{
    char tmpl[] = "/tmp/ferry-test-config-XXXXXX";

    if (mkdtemp(tmpl) == NULL || chdir(tmpl) < 0) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s", tmpl);
    snprintf(conf, sizeof(conf), "%s/ferry.conf", dir);

    test_defaults();
    test_full_file();
    test_env_override();
    test_env_provider();
    test_config_path();
    test_unknown();
    test_lines();
    test_values();
    test_value_files();
    test_provider_names();
    test_provider_rules();
    test_provider_api();

    if (chdir("/") == 0) {
        remove_dir();
    }
    return done_testing();
}
