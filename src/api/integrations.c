/*
 * integrations.c - GET /v2/integrations and /v2/integrations/detailed:
 * the providers enabled on this server. No credentials are needed.
 */
#include <string.h>

#include "api/internal.h"
#include "http/reply.h"
#include "providers/login.h"
#include "providers/registry.h"

int
api_integrations(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    json_t *cloud = json_array();
    json_t *sdk = json_array();
    size_t i;

    for (i = 0; i < a->nproviders; i++) {
        const struct provider_info *info =
            provider_lookup(a->providers[i].resource);
        int is_sdk = info != NULL && info->kind == PROVIDER_SDK;

        json_array_append_new(is_sdk ? sdk : cloud,
                              json_string(a->providers[i].resource));
    }
    return http_reply_json(req, resp, 200,
                           json_pack("{s:o, s:o, s:s}", "providers", cloud,
                                     "sdk_resource", sdk, "status", "success"));
}

static json_t *
types_json(unsigned t)
{
    return json_pack(
        "{s:b, s:b, s:b, s:b, s:b, s:b}", "activity",
        (t & PROVIDER_T_ACTIVITY) != 0, "body", (t & PROVIDER_T_BODY) != 0,
        "nutrition", (t & PROVIDER_T_NUTRITION) != 0, "daily",
        (t & PROVIDER_T_DAILY) != 0, "sleep", (t & PROVIDER_T_SLEEP) != 0,
        "menstruation", (t & PROVIDER_T_MENSTRUATION) != 0);
}

int
api_integrations_detailed(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->ctx;
    const char *sdk = http_query(req, "sdk");
    int with_sdk = sdk != NULL && strcmp(sdk, "true") == 0;
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < a->nproviders; i++) {
        const struct app_provider *p = &a->providers[i];
        const struct provider_info *info = provider_lookup(p->resource);

        if (info != NULL && info->kind == PROVIDER_SDK && !with_sdk) {
            continue;
        }
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "provider",
                            p->resource, "name", p->name, "icon",
                            arena_printf(req->arena, "%s/widget/icons/%s.svg",
                                         a->public_url, p->resource),
                            "setup",
                            p->generic || strcmp(p->resource, "SANDBOX") == 0
                                ? "CUSTOM"
                                : "API_KEYS_CUSTOM",
                            "enabled", 1, "types", types_json(p->types)));
    }
    return http_reply_json(
        req, resp, 200,
        json_pack("{s:s, s:o}", "status", "success", "providers", list));
}
