// connect_widget.test.mjs - the hosted widget page as a browser sees it:
// headers, the picker with the keyboard and without JavaScript, a narrow
// phone screen, WebView user agents, and the expired and unknown link
// pages.
//
// Besides SANDBOX, two named providers are enabled with dummy
// credentials so the picker offers several. Their endpoints point at the
// app server on 127.0.0.1, so a stray click never leaves this machine.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import {
  ANDROID_CHROME_UA,
  launchBrowser,
  WEBVIEW_UA,
} from "./lib/browser.mjs";
import {
  createDeveloper,
  pickProvider,
  request,
  startFerry,
  stopAll,
  terraClient,
} from "./lib/ferry.mjs";
import { startLanding } from "./lib/landing.mjs";

const T = { timeout: 20000 };
const PROVIDERS = ["SANDBOX", "OURA", "WITHINGS"];

let ferry;
let landing;
let browser;
let dev;

function client() {
  return terraClient(ferry, dev);
}

function session(body = {}) {
  return client().authentication.generatewidgetsession({
    reference_id: "widget-page",
    providers: PROVIDERS.join(","),
    language: "en",
    auth_success_redirect_url: landing.url("/ok"),
    auth_failure_redirect_url: landing.url("/fail"),
    ...body,
  });
}

// A named provider with dummy credentials and local endpoints.
function dummySection(name) {
  return [
    `[provider ${name}]`,
    "client_id = dummy-client",
    "client_secret = dummy-secret",
    `authorize_url = ${landing.url(`/${name}/authorize`)}`,
    `token_url = ${landing.url(`/${name}/token`)}`,
    `api_url = ${landing.url(`/${name}/api`)}`,
    "",
  ].join("\n");
}

// The headers every HTML page of ferry sends.
function assertPageHeaders(headers) {
  assert.match(headers.get("content-type") ?? "", /^text\/html/);
  const csp = headers.get("content-security-policy");
  assert.ok(csp, "Content-Security-Policy is sent");
  assert.doesNotMatch(csp, /'unsafe-inline'/);
  assert.doesNotMatch(csp, /'unsafe-eval'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(headers.get("x-frame-options"), "DENY");
  assert.equal(headers.get("referrer-policy"), "no-referrer");
}

// The picker's buttons in a fetched page, as [value, ...].
function buttonValues(html) {
  return [...html.matchAll(/<button\b[^>]*>/g)]
    .map((m) => m[0])
    .filter((b) => /\bname="resource"/.test(b))
    .map((b) => /\bvalue="([^"]*)"/.exec(b)?.[1]);
}

before(async () => {
  landing = await startLanding();
  ferry = await startFerry({
    config: [
      "[links]",
      "min_expires_in = 1",
      "",
      dummySection("oura"),
      dummySection("withings"),
    ].join("\n"),
  });
  dev = await createDeveloper(ferry, "widget-page-e2e");
  browser = await launchBrowser();
});

after(async () => {
  await stopAll(
    () => browser?.close(),
    () => ferry?.stop(),
    () => landing?.stop(),
  );
});

describe("the hosted widget page", () => {
  test("picker: one POST form, one button per provider, strict headers", T,
    async () => {
      const s = await session({ language: "de" });
      const { status, headers, text } = await request(s.url);
      assert.equal(status, 200, text);
      assertPageHeaders(headers);
      assert.match(text, /<html[^>]*\slang="de"/);
      assert.doesNotMatch(text, /<script\b/i);
      assert.deepEqual(buttonValues(text).sort(), [...PROVIDERS].sort());

      const page = await browser.fresh();
      const cspErrors = [];
      browser.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) {
          cspErrors.push(m.text());
        }
      });
      await page.goto(s.url);
      const forms = page.locator("form");
      assert.equal(await forms.count(), 1);
      const form = forms.first();
      assert.equal((await form.getAttribute("method")).toLowerCase(), "post");
      const csrf = form.locator('input[type="hidden"][name="csrf"]');
      assert.equal(await csrf.count(), 1);
      assert.ok((await csrf.getAttribute("value")).length >= 16);
      for (const p of PROVIDERS) {
        const b = form.locator(
          `button[type="submit"][name="resource"][value="${p}"]`,
        );
        assert.equal(await b.count(), 1, `one button for ${p}`);
        assert.ok(await b.isVisible(), `${p} is visible`);
        assert.ok((await b.innerText()).trim().length > 0, `${p} is named`);
      }
      assert.deepEqual(cspErrors, [], "the page obeys its own policy");
      assert.deepEqual(browser.offHost, []);
    });

  test("a link may be opened several times before it completes", T,
    async () => {
      const s = await session();
      for (let i = 0; i < 3; i++) {
        const { status } = await request(s.url);
        assert.equal(status, 200, `opening ${i + 1}`);
      }
    });

  test("without providers: the developer's enabled providers", T,
    async () => {
      const s = await session({ providers: undefined });
      const { status, text } = await request(s.url);
      assert.equal(status, 200, text);
      assert.deepEqual(buttonValues(text).sort(), [...PROVIDERS].sort());
    });

  test("keyboard only: Tab to SANDBOX, Enter starts its login", T,
    async () => {
      const s = await session();
      const page = await browser.fresh();
      await page.goto(s.url);
      let focused = null;
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press("Tab");
        focused = await page.evaluate(() => {
          const el = document.activeElement;
          return el && el.tagName === "BUTTON" ? el.value : null;
        });
        if (focused === "SANDBOX") {
          break;
        }
      }
      assert.equal(focused, "SANDBOX", "Tab reaches the SANDBOX button");
      // the focused button shows where the focus is
      const ring = await page.evaluate(() => {
        const cs = getComputedStyle(document.activeElement);
        return { outline: cs.outlineStyle, shadow: cs.boxShadow };
      });
      assert.ok(
        ring.outline !== "none" || ring.shadow !== "none",
        `a visible focus ring: ${JSON.stringify(ring)}`,
      );
      await page.keyboard.press("Enter");
      await page.waitForURL(
        (u) =>
          u.origin === ferry.baseUrl && u.pathname.startsWith("/sandbox/"),
      );
    });

  test("JavaScript off: the picker still works", T, async () => {
    const s = await session();
    const noJs = await launchBrowser({ javaScriptEnabled: false });
    try {
      const page = noJs.page;
      const res = await page.goto(s.url);
      assert.equal(res.status(), 200);
      await pickProvider(page, "SANDBOX");
      await page.waitForURL(
        (u) =>
          u.origin === ferry.baseUrl && u.pathname.startsWith("/sandbox/"),
      );
      assert.deepEqual(noJs.offHost, []);
    } finally {
      await noJs.close();
    }
  });

  test("360 px wide: the buttons fit, no horizontal scroll", T, async () => {
    const s = await session();
    const page = await browser.fresh();
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await page.goto(s.url);
      const width = await page.evaluate(
        () => document.scrollingElement.scrollWidth,
      );
      assert.ok(width <= 360, `scrollWidth ${width}`);
      const buttons = page.locator('button[name="resource"]');
      assert.equal(await buttons.count(), PROVIDERS.length);
      for (const b of await buttons.all()) {
        const box = await b.boundingBox();
        assert.ok(box.x >= 0 && box.x + box.width <= 360, JSON.stringify(box));
        assert.ok(box.height >= 44, `touch target ${box.height} px tall`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test("WebView user agent: the open-in-browser notice", T, async () => {
    const s = await session();
    // the text of the picker as a browser with user agent `ua` shows it
    async function pageText(ua) {
      const b = await launchBrowser({ userAgent: ua });
      try {
        const res = await b.page.goto(s.url);
        assert.equal(res.status(), 200);
        return await b.page.locator("body").innerText();
      } finally {
        await b.close();
      }
    }
    const webviewText = await pageText(WEBVIEW_UA);
    const chromeText = await pageText(ANDROID_CHROME_UA);
    // the notice shows the link itself, to copy into a real browser
    assert.ok(
      webviewText.includes(s.url),
      `the link is shown in a WebView:\n${webviewText}`,
    );
    assert.ok(!chromeText.includes(s.url), "no notice in a real browser");
    assert.ok(
      webviewText.length > chromeText.length,
      "the WebView page says more",
    );
  });

  test("expired link: 410 page in the session's language", T, async () => {
    const s = await session({ language: "de", expires_in: 1 });
    assert.equal(s.expires_in, 1);
    // opened in time, submitted too late
    const page = await browser.fresh();
    await page.goto(s.url);
    await new Promise((r) => setTimeout(r, 1500));
    const { status, headers, text } = await request(s.url);
    assert.equal(status, 410, text);
    assertPageHeaders(headers);
    assert.match(text, /<html[^>]*\slang="de"/);
    assert.deepEqual(buttonValues(text), []);

    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      pickProvider(page, "SANDBOX"),
    ]);
    assert.equal(res.status(), 410, "a late form post starts no login");
    await page.waitForLoadState();
    assert.ok(!page.url().includes("/sandbox/"), page.url());
  });

  test("unknown widget token: 404 HTML page", T, async () => {
    const token = "A".repeat(32);
    const { status, headers, text } = await request(
      `${ferry.baseUrl}/widget/${token}`,
    );
    assert.equal(status, 404, text);
    assertPageHeaders(headers);
    assert.match(text, /<html[^>]*\slang="[a-z]{2}"/);
    assert.deepEqual(buttonValues(text), []);
  });
});
