// connect_oidc.test.mjs - the connect flow against a real OpenID provider
// (npm oidc-provider) through ferry's generic `type = oauth2` provider,
// with Chromium as the end user's browser and the Terra SDK as the
// developer's backend.
//
// One ferry serves three sections that share the provider's login:
//   [provider oidc]      the provider's own token endpoint
//   [provider oidcfail]  token_url answers 500
//   [provider oidchang]  token_url never answers ([oauth]
//                        token_timeout_seconds = 2)
// Each test uses its own reference_id and provider login, and marks its
// redirect URLs with `t=<test>` so the app's visits tell the tests apart.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { Terra, TerraError } from "terra-api";

import { launchBrowser } from "./lib/browser.mjs";
import {
  assertEventRow,
  assertTerraUser,
  createDeveloper,
  eventsOf,
  pickProvider,
  request,
  sdkError,
  startFerry,
  stopAll,
  terraClient,
  UUID_RE,
  waitForEvents,
} from "./lib/ferry.mjs";
import { startLanding } from "./lib/landing.mjs";
import {
  oidcCancel,
  oidcConsent,
  oidcLogin,
  oidcSection,
  pkceChallenge,
  startOidc,
} from "./lib/oidc.mjs";
import { startTokenStub } from "./lib/stubs.mjs";

// What the failure redirect says when a callback URL that already
// completed a connection is used again.
const REPLAY_REASON = "link_used";

// A test's own time; Playwright's waits are bounded well below it.
const T = { timeout: 20000 };

let ferry;
let oidc;
let landing;
let broken;
let slow;
let browser;
let dev;
let rival;

function client(d = dev) {
  return terraClient(ferry, d);
}

function callbackUrl(name) {
  return `${ferry.baseUrl}/callback/${name}`;
}

// The redirect URLs of test `tag`; the success one carries keep=1.
function redirects(tag) {
  return {
    auth_success_redirect_url: landing.url(`/ok?keep=1&t=${tag}`),
    auth_failure_redirect_url: landing.url(`/fail?from=app&t=${tag}`),
  };
}

function visitOf(tag) {
  return landing.waitFor((v) => v.query.t === tag, 12000);
}

// The responses a page receives, redirects included.
function recordResponses() {
  const seen = [];
  browser.on("response", (r) => {
    seen.push({
      method: r.request().method(),
      url: r.url(),
      status: r.status(),
      location: r.headers().location ?? null,
    });
  });
  return seen;
}

/*
 * The whole widget path for test `tag`: make a session, open it, pick
 * `resource`, log in as `login` and consent (or cancel). The session,
 * the app's visit, the page (the browser's one tab, left where it
 * landed), the responses it received and when consent was given.
 */
async function connectViaWidget({
  tag,
  ref,
  login,
  resource = "OIDC",
  c = client(),
  consent = true,
}) {
  const session = await c.authentication.generatewidgetsession({
    reference_id: ref,
    providers: resource,
    language: "en",
    ...redirects(tag),
  });
  const page = await browser.fresh();
  const responses = recordResponses();
  const res = await page.goto(session.url);
  assert.equal(res.status(), 200, `widget page: ${await res.text()}`);
  await pickProvider(page, resource);
  await oidcLogin(page, oidc, login);
  const consentAt = Date.now();
  if (consent) {
    await oidcConsent(page);
  } else {
    await oidcCancel(page);
  }
  const visit = await visitOf(tag);
  return { session, page, responses, visit, consentAt };
}

async function userCount(c, ref) {
  const r = await c.user.getalluserids();
  return r.users.filter((u) => u.reference_id === ref).length;
}

before(async () => {
  landing = await startLanding();
  oidc = await startOidc();
  broken = await startTokenStub("500");
  slow = await startTokenStub("hang");
  ferry = await startFerry({
    config: [
      "[links]",
      "min_expires_in = 1",
      "",
      "[oauth]",
      "token_timeout_seconds = 2",
      "",
      oidcSection(oidc, "oidc"),
      oidcSection(oidc, "oidcfail", { token_url: broken.url }),
      oidcSection(oidc, "oidchang", { token_url: slow.url }),
    ].join("\n"),
  });
  oidc.configure({
    redirectUris: ["oidc", "oidcfail", "oidchang"].map(callbackUrl),
  });
  dev = await createDeveloper(ferry, "oidc-e2e");
  rival = await createDeveloper(ferry, "oidc-e2e-rival");
  browser = await launchBrowser();
});

after(async () => {
  await stopAll(
    () => browser?.close(),
    () => ferry?.stop(),
    () => oidc?.stop(),
    () => broken?.stop(),
    () => slow?.stop(),
    () => landing?.stop(),
  );
});

describe("connect with a generic OAuth 2.0 / OpenID provider", () => {
  test("widget: pick OIDC, log in, consent, land on the success URL", T,
    async () => {
      const ref = "oidc-widget-1";
      const seen = oidc.requests.length;
      const { session, responses, visit } = await connectViaWidget({
        tag: "w1",
        ref,
        login: "alice-w1",
      });
      // the widget's form post answered 303 to the provider
      const post = responses.find(
        (r) => r.method === "POST" && r.url === session.url,
      );
      assert.ok(post, `a POST to the widget: ${JSON.stringify(responses)}`);
      assert.equal(post.status, 303);
      assert.ok(post.location.startsWith(oidc.url("/auth?")), post.location);
      // the callback answered 302 to the app
      const cb = responses.find((r) =>
        r.url.startsWith(`${callbackUrl("oidc")}?`),
      );
      assert.equal(cb?.status, 302, JSON.stringify(responses));
      assert.equal(cb.location, visit.url);

      assert.equal(visit.path, "/ok");
      assert.match(visit.query.user_id, UUID_RE);
      assert.equal(visit.query.reference_id, ref);
      assert.equal(visit.query.resource, "OIDC");
      assert.equal(visit.query.keep, "1");
      const userId = visit.query.user_id;

      // what ferry sent the provider
      const mine = oidc.requests.slice(seen);
      const auth = mine.find((r) => r.path === "/auth");
      assert.equal(auth.query.response_type, "code");
      assert.equal(auth.query.client_id, oidc.clientId);
      assert.equal(auth.query.redirect_uri, callbackUrl("oidc"));
      assert.deepEqual(auth.query.scope.split(" ").sort(), [
        "openid",
        "profile",
      ]);
      assert.equal(auth.query.code_challenge_method, "S256");
      assert.match(auth.query.state, /^[A-Za-z0-9_-]{22,}$/);
      const token = mine.find((r) => r.path === "/token");
      assert.equal(token.status, 200);
      const basic = Buffer.from(
        `${oidc.clientId}:${oidc.clientSecret}`,
      ).toString("base64");
      assert.equal(token.headers.authorization, `Basic ${basic}`);
      assert.equal(token.form.grant_type, "authorization_code");
      assert.equal(token.form.redirect_uri, callbackUrl("oidc"));
      assert.equal(
        pkceChallenge(token.form.code_verifier),
        auth.query.code_challenge,
      );
      assert.equal(token.form.client_secret, undefined, "secret only in Basic");
      const me = mine.find((r) => r.path === "/me");
      assert.match(me?.headers.authorization ?? "", /^Bearer \S+$/);
      assert.equal(me.status, 200);

      // the user through the SDK
      const info = await client().user.getinfoforuserid({ user_id: userId });
      assert.equal(info.status, "success");
      assert.equal(info.is_authenticated, true);
      assertTerraUser(info.user, {
        userId,
        provider: "OIDC",
        referenceId: ref,
        active: true,
      });
      const created = Date.parse(info.user.created_at);
      assert.ok(Math.abs(Date.now() - created) < 120000, "created just now");
      assert.deepEqual(
        (info.user.scopes ?? "").split(/[ ,]+/).filter(Boolean).sort(),
        ["openid", "profile"],
      );
      const byRef = await client().user.getinfoforuserid({ reference_id: ref });
      assert.ok(Array.isArray(byRef), JSON.stringify(byRef));
      assert.deepEqual(
        byRef.map((u) => u.user_id),
        [userId],
      );

      // exactly one auth success event, naming the widget session
      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.user?.user_id === userId).length,
      );
      const auths = eventsOf(list, "auth", (b) => b.user?.user_id === userId);
      assert.equal(auths.length, 1, JSON.stringify(auths));
      const ev = auths[0];
      assertEventRow(ev, dev);
      assert.equal(ev.user_id, userId);
      assert.equal(ev.body.status, "success");
      assertTerraUser(ev.body.user, {
        userId,
        provider: "OIDC",
        referenceId: ref,
        active: true,
      });
      assert.equal(ev.body.reference_id, ref);
      assert.equal(ev.body.widget_session_id, session.session_id);
      assert.equal(typeof ev.body.message, "string");
      assert.ok(ev.body.message.length > 0);
      assert.equal(typeof ev.body.version, "string");
      assert.deepEqual(browser.offHost, []);
    });

  test("authenticateUser: the reserved user_id is the one that connects", T,
    async () => {
      const ref = "oidc-direct-1";
      const r = await client().authentication.authenticateuser({
        resource: "OIDC",
        reference_id: ref,
        language: "en",
        ...redirects("a1"),
      });
      assert.equal(r.status, "success");
      assert.match(r.user_id, UUID_RE);
      assert.ok(
        r.auth_url.startsWith(`${ferry.baseUrl}/connect/`),
        `auth_url ${r.auth_url}`,
      );

      const page = await browser.fresh();
      const responses = recordResponses();
      await page.goto(r.auth_url);
      // straight to the provider: no picker in between
      assert.equal(responses[0].url, r.auth_url);
      assert.equal(responses[0].status, 302);
      assert.ok(
        responses[0].location.startsWith(oidc.url("/auth?")),
        responses[0].location,
      );
      await oidcLogin(page, oidc, "bob-a1");
      await oidcConsent(page);
      const visit = await visitOf("a1");
      assert.equal(visit.path, "/ok");
      assert.equal(visit.query.user_id, r.user_id);
      assert.equal(visit.query.reference_id, ref);
      assert.equal(visit.query.resource, "OIDC");
      assert.equal(visit.query.keep, "1");

      const info = await client().user.getinfoforuserid({ user_id: r.user_id });
      assertTerraUser(info.user, {
        userId: r.user_id,
        provider: "OIDC",
        referenceId: ref,
        active: true,
      });
      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.user?.user_id === r.user_id).length,
      );
      const auths = eventsOf(
        list,
        "auth",
        (b) => b.user?.user_id === r.user_id,
      );
      assert.equal(auths.length, 1);
      assert.equal(auths[0].body.status, "success");
      assert.match(auths[0].body.widget_session_id, UUID_RE);
    });

  test("cancel at the provider: access_denied, an error event, no user", T,
    async () => {
      const ref = "oidc-cancel-1";
      const r = await client().authentication.authenticateuser({
        resource: "OIDC",
        reference_id: ref,
        ...redirects("c1"),
      });
      const page = await browser.fresh();
      await page.goto(r.auth_url);
      await oidcLogin(page, oidc, "carol-c1");
      await oidcCancel(page);
      const visit = await visitOf("c1");
      assert.equal(visit.path, "/fail");
      assert.equal(visit.query.from, "app");
      assert.equal(visit.query.reason, "access_denied");
      assert.equal(visit.query.resource, "OIDC");
      assert.equal(visit.query.reference_id, ref);
      assert.equal(visit.query.user_id, r.user_id);

      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.reference_id === ref).length,
      );
      const errs = eventsOf(list, "auth", (b) => b.reference_id === ref);
      assert.equal(errs.length, 1, JSON.stringify(errs));
      const ev = errs[0];
      assertEventRow(ev, dev);
      assert.equal(ev.body.status, "error");
      assert.equal(ev.body.reason, "access_denied");
      assert.equal(ev.body.provider, "OIDC");
      assert.equal(ev.body.reference_id, ref);
      assert.match(ev.body.widget_session_id, UUID_RE);
      assert.equal(typeof ev.body.message, "string");
      assert.equal(ev.body.user.user_id, r.user_id);
      assert.equal(ev.body.user.provider, "OIDC");
      assert.equal(ev.body.user.reference_id, ref);
      assert.equal(ev.body.user.active, false);

      const err = await sdkError(
        client().user.getinfoforuserid({ user_id: r.user_id }),
      );
      assert.ok(err instanceof Terra.NotFoundError, `got ${err}`);
      assert.equal(await userCount(client(), ref), 0);
    });

  test("callback with an unknown state: ferry's own 400 page", T,
    async () => {
      const { status, headers, text } = await request(
        `${callbackUrl("oidc")}?state=garbage&code=x`,
      );
      assert.equal(status, 400, text);
      assert.match(headers.get("content-type") ?? "", /^text\/html/);
      assert.equal(headers.get("location"), null);
      assert.match(text, /<html[^>]*\slang="[a-z]{2}"/);
      const health = await request(`${ferry.baseUrl}/healthz`);
      assert.equal(health.status, 200);
    });

  test("state changed on the way back: ferry's own 400 page, no user", T,
    async () => {
      const ref = "oidc-tamper-1";
      oidc.onAuthorize = (q) => {
        const s = q.get("state") ?? "";
        const last = s.at(-1) === "A" ? "B" : "A";
        q.set("state", `${s.slice(0, -1)}${last}`);
      };
      const session = await client().authentication.generatewidgetsession({
        reference_id: ref,
        providers: "OIDC",
        ...redirects("s1"),
      });
      const tokensBefore = oidc.hits("/token").length;
      const page = await browser.fresh();
      const responses = recordResponses();
      try {
        await page.goto(session.url);
        await pickProvider(page, "OIDC");
        await oidcLogin(page, oidc, "dave-s1");
        await oidcConsent(page);
        await page.waitForURL(
          (u) => u.href.startsWith(landing.base) ||
            u.href.startsWith(`${callbackUrl("oidc")}?`),
        );
        await page.waitForLoadState();
      } finally {
        oidc.onAuthorize = null;
      }
      // the changed state names no session ferry knows, so there is no
      // app to tell: ferry's own page, never the app's URL
      const cb = responses.find((r) =>
        r.url.startsWith(`${callbackUrl("oidc")}?`),
      );
      assert.ok(cb, JSON.stringify(responses));
      assert.equal(cb.status, 400);
      assert.equal(cb.location, null);
      assert.ok(page.url().startsWith(`${callbackUrl("oidc")}?`), page.url());
      assert.match(await page.content(), /<html[^>]*\slang="en"/);
      assert.ok(!landing.visits.some((v) => v.query.t === "s1"));
      const list = await ferry.events();
      assert.equal(
        eventsOf(list, "auth", (b) => b.reference_id === ref &&
          b.status === "success").length,
        0,
      );
      assert.equal(await userCount(client(), ref), 0);
      assert.equal(oidc.hits("/token").length, tokensBefore,
        "no code exchange for a state ferry did not issue");
    });

  test("the same callback URL twice: one user, then " + REPLAY_REASON, T,
    async () => {
      const ref = "oidc-replay-1";
      const { page, visit } = await connectViaWidget({
        tag: "r1",
        ref,
        login: "erin-r1",
      });
      const userId = visit.query.user_id;
      const callback = browser.requests.find((r) =>
        r.url.startsWith(`${callbackUrl("oidc")}?`),
      );
      assert.ok(callback, "the browser went through the callback");
      const tokensBefore = oidc.hits("/token").length;
      const visitsBefore = landing.visits.length;
      await page.goto(callback.url);
      const again = await landing.waitFor(
        (v) => v.query.t === "r1" && landing.visits.indexOf(v) >=
          visitsBefore,
      );
      assert.equal(again.path, "/fail");
      assert.equal(again.query.reason, REPLAY_REASON);
      assert.equal(again.query.resource, "OIDC");
      assert.equal(again.query.reference_id, ref);
      assert.equal(oidc.hits("/token").length, tokensBefore,
        "the code is not exchanged again");
      assert.equal(await userCount(client(), ref), 1);
      const list = await ferry.events();
      const ok = eventsOf(list, "auth", (b) => b.reference_id === ref &&
        b.status === "success");
      assert.equal(ok.length, 1);
      assert.equal(ok[0].body.user.user_id, userId);
    });

  test("token endpoint answers 500: token_exchange_failed", T, async () => {
    const ref = "oidc-500-1";
    const { visit, consentAt } = await connectViaWidget({
      tag: "f1",
      ref,
      login: "frank-f1",
      resource: "OIDCFAIL",
    });
    assert.ok(visit.at - consentAt < 8000, `${visit.at - consentAt} ms`);
    assert.equal(visit.path, "/fail");
    assert.equal(visit.query.reason, "token_exchange_failed");
    assert.equal(visit.query.resource, "OIDCFAIL");
    assert.equal(visit.query.reference_id, ref);

    // ferry did call the stub, as it would the real endpoint
    assert.ok(broken.hits.length >= 1);
    const hit = broken.hits[0];
    assert.equal(hit.method, "POST");
    assert.match(hit.headers.authorization ?? "", /^Basic /);
    assert.equal(hit.form.grant_type, "authorization_code");
    assert.equal(hit.form.redirect_uri, callbackUrl("oidcfail"));
    assert.match(hit.form.code_verifier ?? "", /^[A-Za-z0-9._~-]{43,128}$/);

    const list = await waitForEvents(
      ferry,
      (l) => eventsOf(l, "auth", (b) => b.reference_id === ref).length,
    );
    const errs = eventsOf(list, "auth", (b) => b.reference_id === ref);
    assert.equal(errs.length, 1);
    assert.equal(errs[0].body.status, "error");
    assert.equal(errs[0].body.reason, "token_exchange_failed");
    assert.equal(errs[0].body.provider, "OIDCFAIL");
    assert.equal(errs[0].body.user.active, false);
    assert.equal(await userCount(client(), ref), 0);
  });

  test("token endpoint never answers: failure within the timeout", T,
    async () => {
      const ref = "oidc-hang-1";
      const { visit, consentAt } = await connectViaWidget({
        tag: "h1",
        ref,
        login: "grace-h1",
        resource: "OIDCHANG",
      });
      const waited = visit.at - consentAt;
      // token_timeout_seconds = 2: ferry waits that long, not forever
      assert.ok(waited >= 1500, `gave up after only ${waited} ms`);
      assert.ok(waited < 8000, `took ${waited} ms`);
      assert.equal(slow.hits.length >= 1, true);
      assert.equal(visit.path, "/fail");
      assert.equal(visit.query.reason, "token_exchange_failed");
      assert.equal(visit.query.resource, "OIDCHANG");
      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.reference_id === ref).length,
      );
      const errs = eventsOf(list, "auth", (b) => b.reference_id === ref);
      assert.equal(errs.length, 1);
      assert.equal(errs[0].body.reason, "token_exchange_failed");
      assert.equal(await userCount(client(), ref), 0);
    });

  test("reconnect: same reference_id replaces the user, another adds one",
    T, async () => {
      const ref = "oidc-reauth-1";
      const first = await connectViaWidget({
        tag: "re1",
        ref,
        login: "heidi-re",
      });
      const oldId = first.visit.query.user_id;
      const second = await connectViaWidget({
        tag: "re2",
        ref,
        login: "heidi-re",
      });
      const newId = second.visit.query.user_id;
      assert.match(newId, UUID_RE);
      assert.notEqual(newId, oldId);

      // the old connection is retired as a deauthentication would
      const old = await sdkError(
        client().user.getinfoforuserid({ user_id: oldId }),
      );
      assert.ok(old instanceof Terra.NotFoundError, `old user: ${old}`);
      const byRef = await client().user.getinfoforuserid({ reference_id: ref });
      assert.deepEqual(
        byRef.map((u) => u.user_id),
        [newId],
      );
      const fresh = await client().user.getinfoforuserid({ user_id: newId });
      assert.equal(fresh.user.active, true);

      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "user_reauth").some(
          (e) => e.body.new_user?.user_id === newId),
      );
      const reauth = eventsOf(
        list,
        "user_reauth",
        (b) => b.new_user?.user_id === newId,
      );
      assert.equal(reauth.length, 1);
      assertEventRow(reauth[0], dev);
      assert.equal(reauth[0].body.status, "warning");
      assert.equal(reauth[0].body.old_user.user_id, oldId);
      assert.equal(reauth[0].body.new_user.reference_id, ref);
      assert.equal(typeof reauth[0].body.message, "string");
      assert.equal(
        eventsOf(list, "auth", (b) => b.user?.user_id === newId &&
          b.status === "success").length,
        1,
      );

      // the same account under another reference_id: a second user
      const other = await connectViaWidget({
        tag: "re3",
        ref: "oidc-reauth-2",
        login: "heidi-re",
      });
      const otherId = other.visit.query.user_id;
      assert.notEqual(otherId, newId);
      for (const id of [newId, otherId]) {
        const r = await client().user.getinfoforuserid({ user_id: id });
        assert.equal(r.user.active, true, `${id} active`);
      }
      const after = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.user?.user_id === otherId).length,
      );
      assert.equal(
        eventsOf(after, "user_reauth", (b) =>
          b.new_user?.user_id === otherId ||
          b.old_user?.user_id === newId).length,
        0,
      );
    });

  test("deauthenticateUser: success, a deauth event, then 404", T,
    async () => {
      const ref = "oidc-deauth-1";
      const { visit } = await connectViaWidget({
        tag: "d1",
        ref,
        login: "ivan-d1",
      });
      const userId = visit.query.user_id;
      const revokesBefore = oidc.hits("/token/revocation").length;

      const r = await client().authentication.deauthenticateuser({
        user_id: userId,
      });
      assert.equal(r.status, "success");

      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "deauth", (b) => b.user?.user_id === userId).length,
      );
      const ev = eventsOf(list, "deauth", (b) => b.user?.user_id === userId);
      assert.equal(ev.length, 1);
      assertEventRow(ev[0], dev);
      assert.equal(ev[0].body.status, "success");
      assert.equal(ev[0].body.user.provider, "OIDC");
      assert.equal(ev[0].body.user.reference_id, ref);
      assert.equal(typeof ev[0].body.message, "string");

      const gone = await sdkError(
        client().user.getinfoforuserid({ user_id: userId }),
      );
      assert.ok(gone instanceof Terra.NotFoundError, `got ${gone}`);
      const twice = await sdkError(
        client().authentication.deauthenticateuser({ user_id: userId }),
      );
      assert.ok(twice instanceof Terra.NotFoundError, `got ${twice}`);

      // revoked at the provider (best effort, so allow it a moment)
      const deadline = Date.now() + 5000;
      while (
        oidc.hits("/token/revocation").length === revokesBefore &&
        Date.now() < deadline
      ) {
        await new Promise((res) => setTimeout(res, 100));
      }
      const revoke = oidc.hits("/token/revocation").at(-1);
      assert.ok(
        oidc.hits("/token/revocation").length > revokesBefore,
        "a revocation request reached the provider",
      );
      assert.match(revoke.headers.authorization ?? "", /^Basic /);
      assert.ok(revoke.form.token, "the token to revoke is sent");
    });

  test("users endpoints after a connection", T, async () => {
    const ref = "oidc-users-1";
    const { visit } = await connectViaWidget({
      tag: "u1",
      ref,
      login: "judy-u1",
    });
    const userId = visit.query.user_id;
    const c = client();

    const all = await c.user.getalluserids();
    assert.ok(Array.isArray(all.users), JSON.stringify(all));
    const listed = all.users.find((u) => u.user_id === userId);
    assertTerraUser(listed, { userId, provider: "OIDC", referenceId: ref });

    const paged = await c.user.getalluserids({ page: 0, per_page: 1 });
    assert.ok(Array.isArray(paged.data?.results), JSON.stringify(paged));
    assert.equal(paged.data.results.length, 1);
    assert.equal(typeof paged.data.max_page, "number");
    assert.ok(
      paged.data.next === null || typeof paged.data.next === "number",
      JSON.stringify(paged.data),
    );
    assert.equal(paged.data.max_page, all.users.length - 1);
    assert.equal(paged.data.next, all.users.length > 1 ? 1 : null);

    const bulk = await c.user.getinfoformultipleuserids([userId]);
    assert.ok(Array.isArray(bulk), JSON.stringify(bulk));
    assert.equal(bulk.length, 1);
    assertTerraUser(bulk[0], { userId, referenceId: ref });

    const renamed = await c.user.modifyuser(userId, {
      reference_id: "oidc-users-renamed",
    });
    assert.equal(renamed.status, "success");
    assertTerraUser(renamed.user, {
      userId,
      referenceId: "oidc-users-renamed",
      active: true,
    });
    const paused = await c.user.modifyuser(userId, { active: false });
    assert.equal(paused.user.active, false);
    const info = await c.user.getinfoforuserid({ user_id: userId });
    assert.equal(info.user.active, false);
    assert.equal(info.user.reference_id, "oidc-users-renamed");

    const integrations = await c.integrations.fetch();
    assert.equal(integrations.status, "success");
    for (const p of ["OIDC", "SANDBOX"]) {
      assert.ok(integrations.providers.includes(p), `${p} listed`);
    }
    const detailed = await c.integrations.detailedfetch();
    const names = detailed.providers.map((p) => p.provider);
    for (const p of ["OIDC", "SANDBOX"]) {
      assert.ok(names.includes(p), `${p} in detailed: ${names}`);
    }
    const oidcEntry = detailed.providers.find((p) => p.provider === "OIDC");
    assert.equal(typeof oidcEntry.name, "string");
    assert.equal(typeof oidcEntry.enabled, "boolean");
  });

  test("another developer's user ids are not found", T, async () => {
    const ref = "oidc-owner-1";
    const { visit } = await connectViaWidget({
      tag: "o1",
      ref,
      login: "mallory-o1",
    });
    const userId = visit.query.user_id;
    const theirs = client(rival);

    const info = await sdkError(theirs.user.getinfoforuserid({
      user_id: userId,
    }));
    assert.ok(info instanceof Terra.NotFoundError, `userInfo: ${info}`);
    const byRef = await theirs.user.getinfoforuserid({ reference_id: ref });
    assert.deepEqual(byRef, []);
    // the SDK maps only 400 for PATCH, so a 404 is a plain TerraError
    const patch = await sdkError(theirs.user.modifyuser(userId, {
      reference_id: "stolen",
      active: false,
    }));
    assert.ok(patch instanceof TerraError, `PATCH: ${patch}`);
    assert.equal(patch.statusCode, 404);
    const deauth = await sdkError(theirs.authentication.deauthenticateuser({
      user_id: userId,
    }));
    assert.ok(deauth instanceof Terra.NotFoundError, `deauth: ${deauth}`);
    const bulk = await sdkError(theirs.user.getinfoformultipleuserids([
      userId,
    ]));
    assert.ok(bulk instanceof Terra.NotFoundError, `bulkUserInfo: ${bulk}`);
    const subs = await theirs.user.getalluserids();
    assert.ok(!subs.users.some((u) => u.user_id === userId));

    // and the owner's user is untouched
    const mine = await client().user.getinfoforuserid({ user_id: userId });
    assertTerraUser(mine.user, { userId, referenceId: ref, active: true });
    const events = await ferry.events();
    assert.ok(
      !events.some((e) => e.dev_id === rival.dev_id && e.user_id === userId),
    );
  });
});
