// stubs.mjs - token endpoints that misbehave, for the failure paths of
// ferry's OAuth client.
//
//   import { startTokenStub } from "./lib/stubs.mjs";
//   const broken = await startTokenStub("500");  // answers 500 + JSON
//   const slow = await startTokenStub("hang");   // reads, never answers
//   after(() => Promise.all([broken.stop(), slow.stop()]));
//   broken.url                                    // http://127.0.0.1:P/token
//   broken.hits[0].form.code_verifier
//
// Every request is recorded in `hits` as { at, method, path, headers,
// body, form }. stop() drops held connections, so a hanging request never
// keeps the test process alive.

import { createServer } from "node:http";

const MAX_BODY = 64 * 1024;
const MODES = new Set(["500", "hang"]);

export async function startTokenStub(mode) {
  if (!MODES.has(mode)) {
    throw new Error(`startTokenStub: unknown mode ${mode}`);
  }
  const hits = [];
  const waiters = new Set();

  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) {
        chunks.push(c);
      }
    });
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const hit = {
        at: Date.now(),
        method: req.method,
        path: new URL(req.url, "http://127.0.0.1").pathname,
        headers: { ...req.headers },
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      hits.push(hit);
      for (const w of waiters) {
        w(hit);
      }
      if (mode === "500") {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: "server_error",
            error_description: "the token service is down",
          }),
        );
      }
      // "hang": keep the connection open and say nothing
    });
  });
  // a hanging answer must outlive Node's own request timeout
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolveListen);
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  // The next request, or one already made, within `timeoutMs`.
  function waitForHit(timeoutMs = 10000) {
    if (hits.length > 0) {
      return Promise.resolve(hits[0]);
    }
    return new Promise((resolveWait, reject) => {
      const w = (hit) => {
        clearTimeout(timer);
        waiters.delete(w);
        resolveWait(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(`token stub (${mode}): no request in ${timeoutMs} ms`),
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
    mode,
    base,
    url: `${base}/token`,
    hits,
    waitForHit,
    openConnections: () => sockets.size,
    stop,
  };
}
