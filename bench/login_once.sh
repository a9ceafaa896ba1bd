#!/usr/bin/env bash
# One whole SANDBOX login over HTTP, as a browser and a backend make it:
# authenticateUser, the start link, the sandbox's authorize page, its
# login and consent posts, the callback. Six requests, each a new curl
# process (connection), like bench/healthz_six.sh, which is its ceiling.
#   BENCH_BASE, BENCH_DEV_ID, BENCH_API_KEY in the environment.
set -euo pipefail
b=$BENCH_BASE
auth=$(curl -s -X POST "$b/v2/auth/authenticateUser?resource=SANDBOX" \
    -H "dev-id: $BENCH_DEV_ID" -H "x-api-key: $BENCH_API_KEY" \
    -d '{"reference_id":"bench","auth_success_redirect_url":"https://app.example/ok"}')
start=$(sed -n 's/.*"auth_url":"\([^"]*\)".*/\1/p' <<<"$auth")
authorize=$(curl -s -o /dev/null -w '%{redirect_url}' "$start")
page=$(curl -s "$authorize")
req=$(sed -n 's/.*name="request" value="\([^"]*\)".*/\1/p' <<<"$page")
page=$(curl -s -X POST "$b/sandbox/oauth/authorize" \
    --data-urlencode step=login --data-urlencode "request=$req" \
    --data-urlencode "username=bench$RANDOM")
req=$(sed -n 's/.*name="request" value="\([^"]*\)".*/\1/p' <<<"$page")
callback=$(curl -s -o /dev/null -w '%{redirect_url}' -X POST \
    "$b/sandbox/oauth/authorize" --data-urlencode step=consent \
    --data-urlencode "request=$req" --data-urlencode decision=allow)
done=$(curl -s -o /dev/null -w '%{redirect_url}' "$callback")
case $done in
https://app.example/ok\?user_id=*) ;;
*) echo "login_once: ended at '$done'" >&2; exit 1 ;;
esac
