// connect_sandbox.test.mjs - the connect flow with ferry's own SANDBOX
// OAuth server (/sandbox/...): login form, consent with Allow and Deny,
// and ferry's own pages when the developer gave no redirect URLs.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { Terra } from "terra-api";

import { launchBrowser } from "./lib/browser.mjs";
import {
  assertEventRow,
  assertTerraUser,
  createDeveloper,
  eventsOf,
  pickProvider,
  request,
  sandboxDecide,
  sandboxLogin,
  sdkError,
  startFerry,
  stopAll,
  terraClient,
  UUID_RE,
  waitForEvents,
} from "./lib/ferry.mjs";
import { startLanding } from "./lib/landing.mjs";

const T = { timeout: 20000 };

let ferry;
let landing;
let browser;
let dev;

function client() {
  return terraClient(ferry, dev);
}

function redirects(tag) {
  return {
    auth_success_redirect_url: landing.url(`/ok?keep=1&t=${tag}`),
    auth_failure_redirect_url: landing.url(`/fail?from=app&t=${tag}`),
  };
}

/*
 * Open `session` in a new page, pick SANDBOX, sign in as `username` and
 * answer the consent page with `decision`. The page is left open.
 */
async function runSandbox(session, username, decision) {
  const page = await browser.fresh();
  const res = await page.goto(session.url);
  assert.equal(res.status(), 200, `widget page: ${await res.text()}`);
  await pickProvider(page, "SANDBOX");
  await sandboxLogin(page, ferry, username);
  await sandboxDecide(page, decision);
  return page;
}

before(async () => {
  landing = await startLanding();
  ferry = await startFerry();
  dev = await createDeveloper(ferry, "sandbox-e2e");
  browser = await launchBrowser();
});

after(async () => {
  await stopAll(
    () => browser?.close(),
    () => ferry?.stop(),
    () => landing?.stop(),
  );
});

describe("connect with the SANDBOX provider", () => {
  test("widget: pick SANDBOX, sign in, allow, land on the success URL", T,
    async () => {
      const ref = "sandbox-widget-1";
      const session = await client().authentication.generatewidgetsession({
        reference_id: ref,
        providers: "SANDBOX",
        language: "en",
        ...redirects("w1"),
      });
      const page = await runSandbox(session, "sam-w1", "allow");
      let visit;
      visit = await landing.waitFor((v) => v.query.t === "w1");
      assert.equal(visit.path, "/ok");
      assert.match(visit.query.user_id, UUID_RE);
      assert.equal(visit.query.reference_id, ref);
      assert.equal(visit.query.resource, "SANDBOX");
      assert.equal(visit.query.keep, "1");
      const userId = visit.query.user_id;

      const info = await client().user.getinfoforuserid({ user_id: userId });
      assert.equal(info.status, "success");
      assert.equal(info.is_authenticated, true);
      assertTerraUser(info.user, {
        userId,
        provider: "SANDBOX",
        referenceId: ref,
        active: true,
      });

      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.user?.user_id === userId).length,
      );
      const auths = eventsOf(list, "auth", (b) => b.user?.user_id === userId);
      assert.equal(auths.length, 1, JSON.stringify(auths));
      assertEventRow(auths[0], dev);
      assert.equal(auths[0].user_id, userId);
      assert.equal(auths[0].body.status, "success");
      assertTerraUser(auths[0].body.user, {
        userId,
        provider: "SANDBOX",
        referenceId: ref,
        active: true,
      });
      assert.equal(auths[0].body.reference_id, ref);
      assert.equal(auths[0].body.widget_session_id, session.session_id);
      assert.equal(typeof auths[0].body.message, "string");
      assert.equal(typeof auths[0].body.version, "string");

      // the link has done its job: a clear page, never a second login
      const again = await request(session.url);
      assert.equal(again.status, 410, again.text);
      assert.match(again.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(again.text, /<html[^>]*\slang="en"/);
      assert.doesNotMatch(again.text, /name="resource"/);
      assert.deepEqual(browser.offHost, []);
    });

  test("deny at consent: access_denied, an error event, no user", T,
    async () => {
      const ref = "sandbox-deny-1";
      const session = await client().authentication.generatewidgetsession({
        reference_id: ref,
        providers: "SANDBOX",
        ...redirects("d1"),
      });
      const page = await runSandbox(session, "sam-d1", "deny");
      let visit;
      visit = await landing.waitFor((v) => v.query.t === "d1");
      assert.equal(visit.path, "/fail");
      assert.equal(visit.query.from, "app");
      assert.equal(visit.query.reason, "access_denied");
      assert.equal(visit.query.resource, "SANDBOX");
      assert.equal(visit.query.reference_id, ref);

      const list = await waitForEvents(
        ferry,
        (l) => eventsOf(l, "auth", (b) => b.reference_id === ref).length,
      );
      const errs = eventsOf(list, "auth", (b) => b.reference_id === ref);
      assert.equal(errs.length, 1, JSON.stringify(errs));
      assertEventRow(errs[0], dev);
      const body = errs[0].body;
      assert.equal(body.status, "error");
      assert.equal(body.reason, "access_denied");
      assert.equal(body.provider, "SANDBOX");
      assert.equal(body.widget_session_id, session.session_id);
      assert.equal(body.user.active, false);
      assert.equal(body.user.provider, "SANDBOX");
      // the id ferry reserved for the attempt, in the redirect and the
      // event; no user was made under it
      assert.match(visit.query.user_id, UUID_RE);
      assert.equal(body.user.user_id, visit.query.user_id);
      const err = await sdkError(
        client().user.getinfoforuserid({ user_id: visit.query.user_id }),
      );
      assert.ok(err instanceof Terra.NotFoundError, `got ${err}`);
      const users = await client().user.getalluserids();
      assert.ok(!users.users.some((u) => u.reference_id === ref));
    });

  test("no redirect URLs: ferry's own success page", T, async () => {
    const session = await client().authentication.generatewidgetsession({
      reference_id: "sandbox-own-ok",
      providers: "SANDBOX",
    });
    const visits = landing.visits.length;
    const page = await runSandbox(session, "sam-own-ok", "allow");
    await page.waitForURL(
      (u) => u.origin === ferry.baseUrl && !u.pathname.startsWith("/sandbox/"),
    );
    await page.waitForLoadState();
    assert.match(await page.content(), /<html[^>]*\slang="en"/);
    assert.equal(await page.locator('button[name="resource"]').count(), 0);
    assert.equal(landing.visits.length, visits, "the app was not visited");
    const list = await waitForEvents(
      ferry,
      (l) =>
        eventsOf(l, "auth", (b) => b.reference_id === "sandbox-own-ok").length,
    );
    const ok = eventsOf(
      list,
      "auth",
      (b) => b.reference_id === "sandbox-own-ok",
    );
    assert.equal(ok.length, 1);
    assert.equal(ok[0].body.status, "success");
  });

  test("no redirect URLs: ferry's own failure page on deny", T, async () => {
    const session = await client().authentication.generatewidgetsession({
      reference_id: "sandbox-own-deny",
      providers: "SANDBOX",
    });
    const visits = landing.visits.length;
    const page = await runSandbox(session, "sam-own-deny", "deny");
    await page.waitForURL(
      (u) => u.origin === ferry.baseUrl && !u.pathname.startsWith("/sandbox/"),
    );
    await page.waitForLoadState();
    assert.match(await page.content(), /<html[^>]*\slang="en"/);
    assert.equal(landing.visits.length, visits, "the app was not visited");
    const list = await waitForEvents(
      ferry,
      (l) =>
        eventsOf(l, "auth", (b) => b.reference_id === "sandbox-own-deny")
          .length,
    );
    const errs = eventsOf(
      list,
      "auth",
      (b) => b.reference_id === "sandbox-own-deny",
    );
    assert.equal(errs.length, 1);
    assert.equal(errs[0].body.reason, "access_denied");
  });

  test("the same SANDBOX name is the same account", T, async () => {
    const ref = "sandbox-same-1";
    const ids = [];
    for (const tag of ["s1", "s2"]) {
      const session = await client().authentication.generatewidgetsession({
        reference_id: ref,
        providers: "SANDBOX",
        ...redirects(tag),
      });
      const page = await runSandbox(session, "sam-same", "allow");
      const visit = await landing.waitFor((v) => v.query.t === tag);
      assert.equal(visit.path, "/ok");
      ids.push(visit.query.user_id);
    }
    assert.notEqual(ids[0], ids[1]);
    // the second connection of one account under one reference_id is a
    // re-authentication
    const list = await waitForEvents(
      ferry,
      (l) => eventsOf(l, "user_reauth", (b) =>
        b.new_user?.user_id === ids[1]).length,
    );
    const reauth = eventsOf(list, "user_reauth", (b) =>
      b.new_user?.user_id === ids[1]);
    assert.equal(reauth.length, 1);
    assert.equal(reauth[0].body.old_user.user_id, ids[0]);
  });
});
