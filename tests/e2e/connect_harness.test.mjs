// connect_harness.test.mjs - the end-to-end harness itself, without
// ferry: the OpenID provider completes a login in Chromium for a small
// OAuth client of our own, the browser stays on 127.0.0.1, screenshots
// save, the app records its redirects and the token stubs misbehave as
// asked. When these fail, the connect tests' failures say nothing about
// ferry.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { launchBrowser } from "./lib/browser.mjs";
import { startLanding } from "./lib/landing.mjs";
import {
  oidcCancel,
  oidcConsent,
  oidcLogin,
  pkceChallenge,
  startOidc,
} from "./lib/oidc.mjs";
import { startTokenStub } from "./lib/stubs.mjs";

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/*
 * A minimal confidential OAuth client with PKCE: /start sends the
 * browser to the provider, /cb checks state, exchanges the code (Basic
 * client authentication), reads /me, revokes the token and sends the
 * browser on to the app's /ok (or /fail with the provider's error).
 */
async function startClient(oidc, landing) {
  const pending = new Map(); // state -> verifier
  const log = [];
  let base = null;

  async function finish(url) {
    const state = url.searchParams.get("state");
    const verifier = pending.get(state);
    if (verifier === undefined) {
      return landing.url("/fail?error=bad_state");
    }
    pending.delete(state);
    if (url.searchParams.has("error")) {
      const err = encodeURIComponent(url.searchParams.get("error"));
      return landing.url(`/fail?error=${err}`);
    }
    const basic = Buffer.from(
      `${encodeURIComponent(oidc.clientId)}:` +
        `${encodeURIComponent(oidc.clientSecret)}`,
    ).toString("base64");
    const tokenRes = await fetch(oidc.url("/token"), {
      method: "POST",
      headers: {
        authorization: `Basic ${basic}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: url.searchParams.get("code"),
        redirect_uri: `${base}/cb`,
        code_verifier: verifier,
      }),
      signal: AbortSignal.timeout(5000),
    });
    const tokens = await tokenRes.json();
    log.push({ step: "token", status: tokenRes.status, tokens });
    if (tokenRes.status !== 200) {
      return landing.url(`/fail?error=${tokens.error}`);
    }
    const meRes = await fetch(oidc.url("/me"), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
      signal: AbortSignal.timeout(5000),
    });
    const me = await meRes.json();
    log.push({ step: "me", status: meRes.status, me });
    const revokeRes = await fetch(oidc.url("/token/revocation"), {
      method: "POST",
      headers: {
        authorization: `Basic ${basic}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        token: tokens.access_token,
        token_type_hint: "access_token",
      }),
      signal: AbortSignal.timeout(5000),
    });
    log.push({ step: "revoke", status: revokeRes.status });
    return landing.url(`/ok?sub=${encodeURIComponent(me.sub)}`);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, base);
    try {
      let location;
      if (url.pathname === "/start") {
        const state = randomBytes(16).toString("base64url");
        const verifier = randomBytes(32).toString("base64url");
        pending.set(state, verifier);
        const q = new URLSearchParams({
          response_type: "code",
          client_id: oidc.clientId,
          redirect_uri: `${base}/cb`,
          scope: "openid profile",
          state,
          code_challenge: pkceChallenge(verifier),
          code_challenge_method: "S256",
        });
        location = `${oidc.url("/auth")}?${q}`;
      } else if (url.pathname === "/cb") {
        location = await finish(url);
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(302, { location }).end();
    } catch (err) {
      log.push({ step: "error", error: String(err) });
      res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    log,
    stop: () => new Promise((r) => server.close(r)),
  };
}

// Log in and consent on oidc-provider's development pages.
async function loginAndConsent(page, login) {
  await oidcLogin(page, oidc, login);
  await oidcConsent(page);
}

let oidc;
let landing;
let client;
let browser;
let shots;

before(async () => {
  shots = mkdtempSync(join(tmpdir(), "ferry-shots-"));
  landing = await startLanding();
  oidc = await startOidc();
  client = await startClient(oidc, landing);
  oidc.configure({ redirectUris: [`${client.base}/cb`] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await client?.stop();
  await oidc?.stop();
  await landing?.stop();
  if (shots) {
    rmSync(shots, { recursive: true, force: true });
  }
});

describe("harness", () => {
  test("oidc-provider completes a login in Chromium", async () => {
    const page = await browser.fresh();
    await page.goto(`${client.base}/start`);
    assert.equal(new URL(page.url()).origin, oidc.issuer);
    assert.match(new URL(page.url()).pathname, /^\/interaction\//);
    await loginAndConsent(page, "harness-user");
    const visit = await landing.waitFor((v) => v.path === "/ok");
    assert.equal(visit.query.sub, "harness-user");
    await page.waitForURL((u) => u.href === visit.url);
    assert.equal(await page.locator("#landed").textContent(), "/ok");

    // what the provider saw: PKCE S256 on the authorize request, Basic
    // client authentication and the verifier on the token request
    const auth = oidc.hits("/auth")[0];
    assert.equal(auth.query.code_challenge_method, "S256");
    const token = oidc.hits("/token").at(-1);
    assert.equal(token.status, 200);
    assert.match(token.headers.authorization, /^Basic /);
    assert.equal(
      pkceChallenge(token.form.code_verifier),
      auth.query.code_challenge,
    );
    const steps = Object.fromEntries(client.log.map((l) => [l.step, l]));
    assert.equal(steps.me.status, 200);
    assert.equal(steps.me.me.sub, "harness-user");
    assert.equal(steps.revoke.status, 200);
    assert.equal(oidc.hits("/token/revocation").length, 1);
    assert.deepEqual(browser.offHost, [], "the browser stayed on 127.0.0.1");
  });

  test("the provider's Cancel link ends in access_denied", async () => {
    const page = await browser.fresh();
    await page.goto(`${client.base}/start`);
    await oidcLogin(page, oidc, "harness-cancel");
    await oidcCancel(page);
    const visit = await landing.waitFor((v) => v.path === "/fail");
    assert.equal(visit.query.error, "access_denied");
  });

  test("onAuthorize can change the state the provider sends back",
    async () => {
      oidc.onAuthorize = (q) => q.set("state", `${q.get("state")}x`);
      const page = await browser.fresh();
      try {
        await page.goto(`${client.base}/start`);
        await loginAndConsent(page, "harness-tamper");
        const visit = await landing.waitFor(
          (v) => v.path === "/fail" && v.query.error === "bad_state",
        );
        assert.equal(visit.query.error, "bad_state");
      } finally {
        oidc.onAuthorize = null;
      }
    });

  test("screenshots save as PNG", async () => {
    const page = await browser.fresh();
    await page.setViewportSize({ width: 360, height: 640 });
    await page.goto(landing.url("/shot?x=1"));
    const file = join(shots, "landing-360.png");
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    assert.ok(png.subarray(0, 8).equals(PNG_MAGIC), "PNG signature");
    // IHDR width, big-endian at byte 16
    assert.equal(png.readUInt32BE(16), 360);
    const width = await page.evaluate(
      () => document.scrollingElement.scrollWidth,
    );
    assert.ok(width <= 360, `scrollWidth ${width}`);
  });

  test("a browser with JavaScript off logs in through plain forms",
    async () => {
      const noJs = await launchBrowser({ javaScriptEnabled: false });
      try {
        const page = noJs.page;
        await page.goto(`${client.base}/start`);
        await loginAndConsent(page, "harness-nojs");
        const visit = await landing.waitFor(
          (v) => v.path === "/ok" && v.query.sub === "harness-nojs",
        );
        assert.equal(visit.query.sub, "harness-nojs");
        assert.deepEqual(noJs.offHost, []);
      } finally {
        await noJs.close();
      }
    });

  test("the browser refuses to leave 127.0.0.1", async () => {
    const page = await browser.fresh();
    try {
      // another loopback address, so that even a broken guard would
      // send nothing off this machine; the request must be stopped inside
      // the browser before it is tried
      await assert.rejects(page.goto("http://127.0.0.2:9/"), /ERR_BLOCKED/);
      assert.deepEqual(browser.offHost, ["http://127.0.0.2:9/"]);
    } finally {
      browser.offHost.length = 0;
    }
  });

  test("token stub 500 answers 500 with an OAuth error body", async () => {
    const stub = await startTokenStub("500");
    try {
      const res = await fetch(stub.url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=authorization_code&code=abc",
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 500);
      assert.equal((await res.json()).error, "server_error");
      assert.equal(stub.hits.length, 1);
      assert.equal(stub.hits[0].form.code, "abc");
    } finally {
      await stub.stop();
    }
  });

  test("token stub hang never answers and stops cleanly", async () => {
    const stub = await startTokenStub("hang");
    try {
      const started = Date.now();
      await assert.rejects(
        fetch(stub.url, {
          method: "POST",
          body: "grant_type=authorization_code&code=abc",
          signal: AbortSignal.timeout(700),
        }),
        (err) => err.name === "TimeoutError",
      );
      assert.ok(Date.now() - started >= 600);
      assert.equal(stub.hits.length, 1);
    } finally {
      const stopping = Date.now();
      await stub.stop();
      assert.ok(Date.now() - stopping < 2000, "stop() does not wait");
    }
  });
});
