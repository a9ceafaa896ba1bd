/*
 * test_pkce.c - RFC 7636 verifiers and S256 challenges.
 */
#include <string.h>

#include "oauth/pkce.h"
#include "tap.h"

/* RFC 7636 appendix B. */
static const char rfc_verifier[] =
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char rfc_challenge[] =
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static void
test_rfc_vector(void)
{
    char ch[PKCE_CHALLENGE_LEN + 1];

    is_int(pkce_challenge(rfc_verifier, ch), 0, "appendix B: accepted");
    is_str(ch, rfc_challenge, "appendix B: challenge");
    ok(pkce_check(rfc_verifier, rfc_challenge), "appendix B: check");
}

static void
test_fresh_verifier(void)
{
    char v1[PKCE_VERIFIER_LEN + 1];
    char v2[PKCE_VERIFIER_LEN + 1];
    char ch[PKCE_CHALLENGE_LEN + 1];

    is_int(pkce_verifier(v1), 0, "verifier: made");
    pkce_verifier(v2);
    is_int(strlen(v1), PKCE_VERIFIER_LEN, "verifier: 43 characters");
    ok(strspn(v1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-_") == PKCE_VERIFIER_LEN,
       "verifier: base64url alphabet");
    ok(strcmp(v1, v2) != 0, "verifier: two differ");
    is_int(pkce_challenge(v1, ch), 0, "verifier: has a challenge");
    ok(pkce_check(v1, ch), "verifier: its challenge checks");
    ok(!pkce_check(v2, ch), "verifier: another's challenge does not");
}

static void
test_bad_verifiers(void)
{
    char ch[PKCE_CHALLENGE_LEN + 1];
    char longest[PKCE_VERIFIER_MAX + 2];

    is_int(pkce_challenge(NULL, ch), ERR_INVALID, "NULL refused");
    is_int(pkce_challenge("", ch), ERR_INVALID, "empty refused");
    is_str(ch, "", "refused: output empty");
    is_int(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", ch),
           ERR_INVALID, "42 characters refused");
    is_int(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj+k", ch),
           ERR_INVALID, "'+' refused");
    is_int(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj k", ch),
           ERR_INVALID, "space refused");
    is_int(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj\xc3\xa9", ch),
        ERR_INVALID, "non-ASCII refused");
    is_int(pkce_challenge("aaaaaaaaaa.aaaaaaaaaa~aaaaaaaaaa_aaaaaaaaa-", ch), 0,
           "all four marks allowed");

    memset(longest, 'a', sizeof(longest));
    longest[PKCE_VERIFIER_MAX] = '\0';
    is_int(pkce_challenge(longest, ch), 0, "128 characters allowed");
    longest[PKCE_VERIFIER_MAX] = 'a';
    longest[PKCE_VERIFIER_MAX + 1] = '\0';
    is_int(pkce_challenge(longest, ch), ERR_INVALID, "129 refused");
}

static void
test_check_refuses(void)
{
    char bad[PKCE_CHALLENGE_LEN + 1];

    memcpy(bad, rfc_challenge, sizeof(bad));
    bad[10] ^= 1;
    ok(!pkce_check(rfc_verifier, bad), "check: one bit off");
    ok(!pkce_check(rfc_verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"),
       "check: short challenge");
    ok(!pkce_check(rfc_verifier,
                   "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="),
       "check: padded challenge");
    ok(!pkce_check(rfc_verifier, NULL), "check: NULL challenge");
    ok(!pkce_check(NULL, rfc_challenge), "check: NULL verifier");
    ok(!pkce_check("short", rfc_challenge), "check: bad verifier");
    ok(!pkce_check(rfc_challenge, rfc_verifier), "check: swapped");
}

int
main(void)
{
    test_rfc_vector();
    test_fresh_verifier();
    test_bad_verifiers();
    test_check_refuses();
    return done_testing();
}
