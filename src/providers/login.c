/*
 * login.c - the built-in login table. Sources: each provider's public
 * developer documentation (see docs/internals/providers.md).
 */
#include <stddef.h>
#include <strings.h>

#include "providers/login.h"

static const struct provider_login logins[] = {
    {"DEXCOM", "https://api.dexcom.com/v2/oauth2/login",
     "https://api.dexcom.com/v2/oauth2/token", NULL,
     "https://api.dexcom.com/v3/users/self/devices", "userId", "offline_access",
     0, 1, 0, PROVIDER_T_BODY},
    {"FITBIT", "https://www.fitbit.com/oauth2/authorize",
     "https://api.fitbit.com/oauth2/token",
     "https://api.fitbit.com/oauth2/revoke", NULL, "user_id",
     "activity heartrate sleep profile weight oxygen_saturation "
     "respiratory_rate temperature nutrition",
     1, 0, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP | PROVIDER_T_NUTRITION},
    {"GARMIN", "https://connect.garmin.com/oauth2Confirm",
     "https://diauth.garmin.com/di-oauth2-service/oauth/token", NULL,
     "https://apis.garmin.com/wellness-api/rest/user/id", "userId", NULL, 1, 1,
     0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
    {"GOOGLE_HEALTH", "https://accounts.google.com/o/oauth2/v2/auth",
     "https://oauth2.googleapis.com/token",
     "https://oauth2.googleapis.com/revoke",
     "https://openidconnect.googleapis.com/v1/userinfo", "sub",
     "openid https://www.googleapis.com/auth/fitness.activity.read "
     "https://www.googleapis.com/auth/fitness.sleep.read "
     "https://www.googleapis.com/auth/fitness.body.read",
     1, 1, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
    {"OURA", "https://cloud.ouraring.com/oauth/authorize",
     "https://api.ouraring.com/oauth/token",
     "https://api.ouraring.com/oauth/revoke",
     "https://api.ouraring.com/v2/usercollection/personal_info", "id",
     "email personal daily heartrate workout tag session spo2Daily", 0, 1, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
    {"POLAR", "https://flow.polar.com/oauth2/authorization",
     "https://polarremote.com/v2/oauth2/token", NULL, NULL, "x_user_id",
     "accesslink.read_all", 0, 0, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_DAILY | PROVIDER_T_SLEEP},
    {"SANDBOX", PROVIDER_SANDBOX_AUTHORIZE, PROVIDER_SANDBOX_TOKEN,
     PROVIDER_SANDBOX_REVOKE, PROVIDER_SANDBOX_USERINFO, "user_id",
     PROVIDER_SANDBOX_SCOPES, 1, 0, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
    {"STRAVA", "https://www.strava.com/oauth/authorize",
     "https://www.strava.com/oauth/token",
     "https://www.strava.com/oauth/deauthorize", NULL, "athlete.id",
     "read,activity:read_all,profile:read_all", 0, 1, 0, PROVIDER_T_ACTIVITY},
    {"SUUNTO", "https://cloudapi-oauth.suunto.com/oauth/authorize",
     "https://cloudapi-oauth.suunto.com/oauth/token", NULL, NULL, "user",
     "workout", 0, 0, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_DAILY | PROVIDER_T_SLEEP},
    {"WAHOO", "https://api.wahooligan.com/oauth/authorize",
     "https://api.wahooligan.com/oauth/token", NULL,
     "https://api.wahooligan.com/v1/user", "id",
     "user_read workouts_read offline_data", 0, 1, 0, PROVIDER_T_ACTIVITY},
    {"WHOOP", "https://api.prod.whoop.com/oauth/oauth2/auth",
     "https://api.prod.whoop.com/oauth/oauth2/token", NULL,
     "https://api.prod.whoop.com/developer/v2/user/profile/basic", "user_id",
     "offline read:profile read:body_measurement read:cycles read:recovery "
     "read:sleep read:workout",
     0, 1, 0,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
    {"WITHINGS", "https://account.withings.com/oauth2_user/authorize2",
     "https://wbsapi.withings.net/v2/oauth2", NULL, NULL, "userid",
     "user.info,user.metrics,user.activity", 0, 1, PROVIDER_Q_WRAPPED_TOKEN,
     PROVIDER_T_ACTIVITY | PROVIDER_T_BODY | PROVIDER_T_DAILY |
         PROVIDER_T_SLEEP},
};

const struct provider_login *
provider_login(const char *resource)
{
    size_t i;

    for (i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
        if (strcasecmp(logins[i].resource, resource) == 0) {
            return &logins[i];
        }
    }
    return NULL;
}
