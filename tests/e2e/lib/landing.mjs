// landing.mjs - the developer's app: the pages ferry sends the browser
// to after a connection (auth_success_redirect_url and
// auth_failure_redirect_url). It records every visit.
//
//   import { startLanding } from "./lib/landing.mjs";
//   const landing = await startLanding();
//   after(() => landing.stop());
//   landing.url("/ok?keep=1")        // http://127.0.0.1:L/ok?keep=1
//   const visit = await landing.waitFor((v) => v.path === "/ok");
//   visit.query.user_id
//
// Each visit is { at, method, path, query (an object of the first value
// of each name), params (the URLSearchParams), url, headers }. The page
// answered is a small HTML document naming the path, so a screenshot of
// it says where the browser landed.

import { createServer } from "node:http";

const WAIT_MS = 10000;

function escapeHtml(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ],
  );
}

export async function startLanding() {
  const visits = [];
  const waiters = new Set();
  let base = null;

  const server = createServer((req, res) => {
    const url = new URL(req.url, base);
    const visit = {
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      params: url.searchParams,
      url: url.href,
      headers: { ...req.headers },
    };
    if (url.pathname !== "/favicon.ico") {
      visits.push(visit);
      for (const w of waiters) {
        w(visit);
      }
    }
    const rows = [...url.searchParams]
      .map(([k, v]) => `<li><b>${escapeHtml(k)}</b> ${escapeHtml(v)}</li>`)
      .join("");
    res.writeHead(url.pathname === "/favicon.ico" ? 404 : 200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
    });
    res.end(
      "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">" +
        `<title>app ${escapeHtml(url.pathname)}</title>` +
        `<h1 id="landed">${escapeHtml(url.pathname)}</h1><ul>${rows}</ul>`,
    );
  });
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolveListen);
  });
  base = `http://127.0.0.1:${server.address().port}`;

  // The first visit (already made or still to come) that `pred` accepts.
  function waitFor(pred, timeoutMs = WAIT_MS) {
    const seen = visits.find(pred);
    if (seen) {
      return Promise.resolve(seen);
    }
    return new Promise((resolveWait, reject) => {
      const w = (v) => {
        if (pred(v)) {
          clearTimeout(timer);
          waiters.delete(w);
          resolveWait(v);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(
            `no matching visit to the app within ${timeoutMs} ms; visits: ` +
              JSON.stringify(visits.map((v) => v.url)),
          ),
        );
      }, timeoutMs);
      waiters.add(w);
    });
  }

  async function stop() {
    await new Promise((resolveClose) => {
      server.close(() => resolveClose());
      for (const s of sockets) {
        s.destroy();
      }
    });
  }

  return {
    base,
    url: (path) => `${base}${path}`,
    visits,
    waitFor,
    stop,
  };
}
