// browser.mjs - Debian's Chromium, driven by playwright-core, as the end
// user's browser.
//
//   import { launchBrowser } from "./lib/browser.mjs";
//   const browser = await launchBrowser();        // 1280x800, JS on
//   after(() => browser.close());
//   const page = await browser.fresh();           // the one tab, reset
//   await page.goto(session.url);
//
// Never page.close() a tab, this one or another: now and then (one
// close in four to one in twenty here) Chromium never reports the tab
// closed, and Playwright's close() has no timeout, so the test hangs
// until browser.close(). To leave a page, go to about:blank or fresh().
//
// Chromium is /usr/bin/chromium, headless, with exactly the flags in
// CHROMIUM_FLAGS and a fresh user data dir (removed by close()), so it
// opens no connection of its own. On top of that every page load,
// subresource and form post for anything but http://127.0.0.1 is aborted
// before it leaves the browser. A redirect's next hop cannot be stopped
// that way (Playwright does not route redirects), so tests configure
// only 127.0.0.1 URLs anywhere ferry could send the browser (providers'
// endpoints included); every request for another host, redirect hops
// too, is listed in `offHost`, and a test may assert it stays empty.
//
// Options: viewport {width,height}, javaScriptEnabled (default true),
// userAgent (default Chromium's own), locale (default en-US).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Playwright's own waits, bounded well below a test's time.
const ACTION_TIMEOUT_MS = 8000;
const NAVIGATION_TIMEOUT_MS = 10000;
const LAUNCH_TIMEOUT_MS = 20000;

// An Android WebView (the "; wv)" token) and a normal Android Chrome.
export const WEBVIEW_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) " +
  "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 " +
  "Chrome/124.0.6367.82 Mobile Safari/537.36";
export const ANDROID_CHROME_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 " +
  "(KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36";

// 1 for URLs the browser may fetch: loopback HTTP servers the test
// started, and schemes that need no network.
export function isLocalUrl(u) {
  const url = typeof u === "string" ? new URL(u) : u;
  if (["about:", "data:", "blob:"].includes(url.protocol)) {
    return true;
  }
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.hostname === "127.0.0.1"
  );
}

export async function launchBrowser(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ferry-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: LAUNCH_TIMEOUT_MS,
      viewport: options.viewport ?? { width: 1280, height: 800 },
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      userAgent: options.userAgent,
      locale: options.locale ?? "en-US",
      acceptDownloads: false,
      serviceWorkers: "block",
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);

  const offHost = [];
  const requests = [];
  context.on("request", (r) => {
    const url = r.url();
    requests.push({ method: r.method(), url });
    if (!isLocalUrl(url)) {
      offHost.push(url);
    }
  });
  await context.route(
    (url) => !isLocalUrl(url),
    (route) => route.abort("blockedbyclient"),
  );

  // One tab for the browser's whole life: opening and closing tabs is
  // where Chromium under automation has been seen to stall, and one
  // visitor needs only one.
  const page = context.pages()[0] ?? (await context.newPage());
  let listeners = [];

  let closed = null;
  async function close() {
    if (closed) {
      return closed;
    }
    closed = (async () => {
      try {
        await context.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    return closed;
  }

  return {
    context,
    dir,
    page,
    offHost,
    requests,
    // Listen to `event` of the page until the next fresh().
    on(event, fn) {
      page.on(event, fn);
      listeners.push([event, fn]);
    },
    // The tab as a new visitor would have it: blank, no cookies, no
    // listeners from the last test, an empty request log.
    async fresh() {
      for (const [event, fn] of listeners) {
        page.off(event, fn);
      }
      listeners = [];
      await page.goto("about:blank");
      await context.clearCookies();
      requests.length = 0;
      return page;
    },
    close,
  };
}
