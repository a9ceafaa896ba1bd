// screenshots.mjs - PNGs of ferry's end-user pages, for people to look
// at: `make screenshots`, or
//
//   cd tests/e2e && TEST_FERRY_BIN=../../ferry node screenshots.mjs DIR
//
// Starts ferry with SANDBOX and two named providers (dummy credentials,
// endpoints on 127.0.0.1) and saves, each at 360 and 1280 px wide:
//   widget     the provider picker
//   webview    the picker as an Android WebView sees it
//   expired    a link past its expires_in
//   used       a link that already connected someone
//   not-found  an unknown link
//   success    ferry's own page after a connection (no redirect URL)
//   failure    ferry's own page after a denied consent (no redirect URL)
// as DIR/<name>-<width>.png (DIR defaults to build/screenshots at the top
// of the tree). A page that cannot be reached is reported and the script
// ends with status 1 once it has saved all the others.

import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { launchBrowser, WEBVIEW_UA } from "./lib/browser.mjs";
import {
  createDeveloper,
  pickProvider,
  sandboxDecide,
  sandboxLogin,
  startFerry,
  stopAll,
  terraClient,
} from "./lib/ferry.mjs";
import { startLanding } from "./lib/landing.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(
  process.argv[2] ?? join(here, "../../build/screenshots"),
);
const WIDTHS = [360, 1280];
const HEIGHT = { 360: 740, 1280: 800 };

function dummySection(landing, name) {
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

async function main() {
  mkdirSync(outDir, { recursive: true });
  // the dummy providers' endpoints; nothing is expected to reach them
  const landing = await startLanding();
  let ferry = null;
  const browsers = [];
  const failures = [];
  const saved = [];

  try {
    ferry = await startFerry({
      config: [
        "[links]",
        "min_expires_in = 1",
        "",
        dummySection(landing, "oura"),
        dummySection(landing, "withings"),
      ].join("\n"),
    });
    const dev = await createDeveloper(ferry, "screenshots");
    const client = terraClient(ferry, dev);
    const newSession = (body = {}) =>
      client.authentication.generatewidgetsession({
        reference_id: "screenshot-user",
        providers: "SANDBOX,OURA,WITHINGS",
        language: "en",
        ...body,
      });

    const plain = await launchBrowser();
    const webview = await launchBrowser({ userAgent: WEBVIEW_UA });
    browsers.push(plain, webview);

    // Save `name` at both widths; `open(page)` brings the page there.
    async function shoot(name, open, browser = plain) {
      for (const width of WIDTHS) {
        try {
          const page = await browser.fresh();
          await page.setViewportSize({ width, height: HEIGHT[width] });
          await open(page);
          await page.waitForLoadState();
          const file = join(outDir, `${name}-${width}.png`);
          await page.screenshot({ path: file, fullPage: true });
          saved.push(file);
        } catch (err) {
          failures.push(`${name}-${width}: ${err.message.split("\n")[0]}`);
        }
      }
    }

    // go through SANDBOX and stop on ferry's own closing page
    async function complete(page, url, decision, username) {
      await page.goto(url);
      await pickProvider(page, "SANDBOX");
      await sandboxLogin(page, ferry, username);
      await sandboxDecide(page, decision);
      await page.waitForURL(
        (u) =>
          u.origin === ferry.baseUrl && !u.pathname.startsWith("/sandbox/"),
      );
    }

    const picker = await newSession();
    await shoot("widget", (page) => page.goto(picker.url));
    await shoot("webview", (page) => page.goto(picker.url), webview);

    const expiring = [await newSession({ expires_in: 1 }),
      await newSession({ expires_in: 1 })];
    await new Promise((r) => setTimeout(r, 1500));
    let n = 0;
    await shoot("expired", (page) => page.goto(expiring[n++].url));

    await shoot("not-found", (page) =>
      page.goto(`${ferry.baseUrl}/widget/${"A".repeat(32)}`),
    );

    // the success page, and the used link afterwards
    const done = [];
    let k = 0;
    await shoot("success", async (page) => {
      const s = await newSession();
      done.push(s);
      await complete(page, s.url, "allow", `screenshot-${k++}`);
    });
    let u = 0;
    await shoot("used", async (page) => {
      const s = done[u++];
      if (!s) {
        throw new Error("no completed link (the success page failed)");
      }
      await page.goto(s.url);
    });
    await shoot("failure", async (page) => {
      const s = await newSession();
      await complete(page, s.url, "deny", "screenshot-deny");
    });

    const off = browsers.flatMap((b) => b.offHost);
    if (off.length > 0) {
      failures.push(`requests off 127.0.0.1: ${off.join(" ")}`);
    }
  } catch (err) {
    failures.push(err.message);
  } finally {
    try {
      await stopAll(
        ...browsers.map((b) => () => b.close()),
        () => ferry?.stop(),
        () => landing.stop(),
      );
    } catch (err) {
      failures.push(err.message);
    }
  }

  for (const f of saved) {
    console.log(`saved ${f}`);
  }
  for (const f of failures) {
    console.error(`screenshots: ${f}`);
  }
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
