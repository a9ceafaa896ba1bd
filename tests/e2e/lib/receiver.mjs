// receiver.mjs - a webhook endpoint for ferry's deliveries, and what the
// delivery tests share: a store that outlives one ferry process, events
// made in bulk with the sqlite3 CLI, waits on conditions.
//
//   import { startReceiver } from "./lib/receiver.mjs";
//   const rx = await startReceiver();
//   after(() => rx.close());
//   rx.url                                // http://127.0.0.1:P/hook
//   rx.secrets = [made.secret];           // what signatures are checked with
//   rx.respond((req) => (req.attempt <= 3 ? 500 : 200));
//   await rx.waitFor(() => rx.count(eventId) === 4, 20000, "4 attempts");
//   await rx.stop();                      // the port now refuses connections
//   await rx.start();                     // listening again, same port
//
// Every request is recorded in `rx.requests`, in the order its body was
// read, as { n, at (ms, when its head arrived), doneAt (body read), method,
// path, headers, raw (Buffer: the bytes as sent), body (raw as UTF-8), json
// (or null), eventId (ferry-event-id), attempt (1 for the first request
// with that id, 2 for the next...), signature ({t, v1: [..]} parsed from
// terra-signature, or null), checks (one per secret held: {secret, own,
// sdk}, each {ok, error}), verified (some secret passes both checks),
// answer ({status, at} once answered; {dropped: "never"|"reset", at}),
// closedAt (when the connection went away, if it did) }.
//
// The signature is checked twice from the raw bytes: by verifySignature
// below (the documented algorithm: split on ",", t and every v1, HMAC-
// SHA256 over t + "." + body, constant-time comparison, a tolerance on
// t), and by the Terra SDK's own verifyTerraWebhookSignature.
//
// rx.respond(fn) scripts the answers: fn(req, rx) is called once per
// request, after its body is read and checked, and returns (or resolves
// to) one of
//   200, 500, ...                  that status, a small JSON body
//   { status, headers, body }      exactly that
//   { status: 429, retryAfter: 2 } with a Retry-After header
//   "never"                        no answer; the connection stays open
//   "reset"                        the connection is dropped unanswered
//   undefined                      200
// An async fn holds the request open until it resolves, e.g.
// `async () => { await rx.waitFor(() => ..., 10000, "B"); return 200; }`.
// stop() drops every open connection, held ones too, so nothing keeps the
// test process alive. rx.connections() counts every connection accepted,
// with a request or not.
//
// For the tests around it: makeStore() (a store directory that outlives
// one ferry process), deliveryConfig() and startFerryOn() (a ferry on it
// with [security] and [deliver] as asked), sql() (the sqlite3 CLI on the
// store), insertUsers(), planEvents() and insertEvents() (events added as
// rows, the trigger queueing their deliveries), connectSandbox() and
// deauthenticate() (events ferry makes itself, without a browser),
// addWebhook(), showEvent(), metric() and deliveryCounts() (the CLI and
// /metrics), until() (poll a condition with a deadline).

import { execFile } from "node:child_process";
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { verifyTerraWebhookSignature } from "terra-api";

import { startFerry } from "./ferry.mjs";

const MAX_BODY = 32 << 20;
const WAIT_MS = 10000;
export const TOLERANCE_S = 300;

/*
 * terra-signature split as the documentation says: on ",", each part on
 * its first "="; `t` is the timestamp, every `v1` a signature. Parts of
 * other names are kept in `other`. Null for a missing header.
 */
export function parseSignature(header) {
  if (typeof header !== "string") {
    return null;
  }
  const out = { t: null, v1: [], other: [] };
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      out.other.push(part);
      continue;
    }
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      out.t = value;
    } else if (key === "v1") {
      out.v1.push(value);
    } else {
      out.other.push(part);
    }
  }
  return out;
}

/* hex HMAC-SHA256 of `t + "." + raw` under `secret` (its UTF-8 bytes). */
export function signatureOf(secret, t, raw) {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.from(`${t}.`, "utf8"))
    .update(raw)
    .digest("hex");
}

/*
 * Check `header` for the body bytes `raw` with `secret`, as a receiver
 * following the documentation would: some v1 equal (constant time) to
 * the HMAC, and t within `tolerance` seconds of `now` (unix seconds).
 * { ok: true, index (which v1 matched) } or { ok: false, error }.
 */
export function verifySignature(raw, header, secret, options = {}) {
  const tolerance = options.tolerance ?? TOLERANCE_S;
  const now = options.now ?? Date.now() / 1000;
  const sig = parseSignature(header);
  if (sig === null) {
    return { ok: false, error: "no terra-signature header" };
  }
  if (sig.t === null || !/^\d+$/.test(sig.t)) {
    return { ok: false, error: `bad t in ${header}` };
  }
  if (sig.v1.length === 0) {
    return { ok: false, error: `no v1 in ${header}` };
  }
  const want = Buffer.from(signatureOf(secret, sig.t, raw), "hex");
  let index = -1;
  sig.v1.forEach((v, i) => {
    if (!/^[0-9a-fA-F]{64}$/.test(v)) {
      return;
    }
    const got = Buffer.from(v, "hex");
    if (got.length === want.length && timingSafeEqual(got, want) &&
        index < 0) {
      index = i;
    }
  });
  if (index < 0) {
    return { ok: false, error: "no v1 matches" };
  }
  const age = now - Number(sig.t);
  if (Math.abs(age) > tolerance) {
    return { ok: false, error: `t is ${age.toFixed(0)} s off` };
  }
  return { ok: true, index };
}

/* The SDK's verdict: { ok: true } or { ok: false, error }. */
export async function verifyWithSdk(raw, header, secret, options = {}) {
  try {
    const ok = await verifyTerraWebhookSignature(
      raw.toString("utf8"),
      header,
      secret,
      { tolerance: options.tolerance ?? TOLERANCE_S },
    );
    return ok === true ? { ok: true } : { ok: false, error: String(ok) };
  } catch (err) {
    return { ok: false, error: err.message };
  }
}

/* Both checks of one request with `secret`. */
export async function checkBoth(raw, header, secret, options = {}) {
  return {
    secret,
    own: verifySignature(raw, header, secret, options),
    sdk: await verifyWithSdk(raw, header, secret, options),
  };
}

function normalise(action) {
  if (action === undefined || action === null) {
    return { status: 200 };
  }
  if (typeof action === "number") {
    return { status: action };
  }
  if (action === "never" || action === "reset") {
    return { drop: action };
  }
  if (typeof action === "object") {
    return action;
  }
  throw new Error(`receiver: unknown answer ${JSON.stringify(action)}`);
}

/*
 * Start a receiver on 127.0.0.1 (port 0: any free one). options.path
 * (default "/hook"), options.secrets (default []), options.tolerance.
 */
export async function startReceiver(options = {}) {
  const path = options.path ?? "/hook";
  const requests = [];
  const byId = new Map();
  const waiters = new Set();
  const sockets = new Set();
  let handler = () => 200;
  let server = null;
  let port = 0;
  let arrivals = 0;
  let accepted = 0;

  const rx = {
    requests,
    secrets: [...(options.secrets ?? [])],
    tolerance: options.tolerance ?? TOLERANCE_S,
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}${path}`;
    },
    get listening() {
      return server !== null;
    },
    openConnections: () => sockets.size,
    // every connection accepted since the start, requests or not
    connections: () => accepted,
    respond(fn) {
      handler = typeof fn === "function" ? fn : () => fn;
    },
    // Requests carrying event `id`, first first.
    of(id) {
      return byId.get(id) ?? [];
    },
    count(id) {
      return (byId.get(id) ?? []).length;
    },
    // Distinct event ids in the order they first arrived.
    ids() {
      return [...byId.keys()];
    },
    // The first request of every event, in arrival order.
    firsts() {
      return requests.filter((r) => r.attempt === 1);
    },
    waitFor,
    start,
    stop,
    close: stop,
    summary,
  };

  function notify() {
    for (const w of [...waiters]) {
      w();
    }
  }

  /*
   * Resolve with pred()'s first truthy value, checked now and after every
   * request and answer; reject after `timeoutMs` naming `what` and the
   * requests seen.
   */
  function waitFor(pred, timeoutMs = WAIT_MS, what = "a condition") {
    return new Promise((resolveWait, reject) => {
      let timer = null;
      const check = () => {
        let v;
        try {
          v = pred(rx);
        } catch (err) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (v) {
          waiters.delete(check);
          clearTimeout(timer);
          resolveWait(v);
        }
      };
      timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `receiver: no ${what} within ${timeoutMs} ms; seen:\n` +
              summary(),
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  function summary(last = 40) {
    const t0 = requests[0]?.at ?? 0;
    return requests
      .slice(-last)
      .map(
        (r) =>
          `  #${r.n} +${r.at - t0} ms ${r.method} ${r.path} ` +
          `event=${r.eventId} attempt=${r.attempt} ` +
          `verified=${r.verified} answer=` +
          (r.answer
            ? r.answer.status ?? r.answer.dropped
            : "(pending)"),
      )
      .join("\n");
  }

  function answer(rec, req, res, action) {
    const a = normalise(action);
    if (a.drop === "never") {
      rec.answer = { dropped: "never", at: Date.now() };
      notify();
      return;
    }
    if (a.drop === "reset") {
      rec.answer = { dropped: "reset", at: Date.now() };
      req.socket.destroy();
      notify();
      return;
    }
    const headers = {
      "content-type": "application/json",
      ...(a.headers ?? {}),
    };
    if (a.retryAfter !== undefined) {
      headers["retry-after"] = String(a.retryAfter);
    }
    const body =
      a.body ?? JSON.stringify({ received: rec.eventId, status: a.status });
    rec.answer = { status: a.status, at: Date.now() };
    if (res.destroyed || req.socket.destroyed) {
      rec.answer.lost = true;
    } else {
      res.writeHead(a.status, headers);
      res.end(body);
    }
    notify();
  }

  function onRequest(req, res) {
    const rec = {
      n: ++arrivals,
      at: Date.now(),
      doneAt: null,
      method: req.method,
      path: req.url,
      headers: { ...req.headers },
      raw: null,
      body: null,
      json: null,
      eventId: req.headers["ferry-event-id"] ?? null,
      attempt: 0,
      signature: parseSignature(req.headers["terra-signature"]),
      checks: [],
      verified: false,
      answer: null,
      closedAt: null,
    };
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) {
        chunks.push(c);
      }
    });
    res.on("close", () => {
      rec.closedAt = Date.now();
      notify();
    });
    req.on("end", async () => {
      rec.raw = Buffer.concat(chunks);
      rec.doneAt = Date.now();
      rec.body = rec.raw.toString("utf8");
      try {
        rec.json = JSON.parse(rec.body);
      } catch {
        rec.json = null;
      }
      const header = req.headers["terra-signature"];
      for (const secret of rx.secrets) {
        rec.checks.push(
          await checkBoth(rec.raw, header, secret, {
            tolerance: rx.tolerance,
          }),
        );
      }
      rec.verified = rec.checks.some((c) => c.own.ok && c.sdk.ok);
      const key = rec.eventId ?? `(no ferry-event-id #${rec.n})`;
      if (!byId.has(key)) {
        byId.set(key, []);
      }
      byId.get(key).push(rec);
      rec.attempt = byId.get(key).length;
      requests.push(rec);
      notify();
      let action;
      try {
        action = await handler(rec, rx);
      } catch (err) {
        action = { status: 599, body: `receiver script failed: ${err}` };
      }
      answer(rec, req, res, action);
    });
  }

  async function start() {
    if (server !== null) {
      return;
    }
    const s = createServer(onRequest);
    // a held or unanswered request must outlive Node's own timeouts
    s.requestTimeout = 0;
    s.headersTimeout = 0;
    s.keepAliveTimeout = 2000;
    s.on("connection", (sock) => {
      accepted++;
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
    });
    await new Promise((resolveListen, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        s.off("error", reject);
        resolveListen();
      });
    });
    port = s.address().port;
    server = s;
  }

  // Stop listening and drop every connection; start() comes back on the
  // same port.
  async function stop() {
    if (server === null) {
      return;
    }
    const s = server;
    server = null;
    await new Promise((resolveClose) => {
      s.close(() => resolveClose());
      for (const sock of sockets) {
        sock.destroy();
      }
    });
  }

  await start();
  return rx;
}

// ---- shared by the delivery tests ----

/* Poll `fn` (sync or async) until truthy; its value. Rejects after
 * `timeoutMs` naming `what` and, when given, describe()'s text. */
export async function until(fn, timeoutMs, what, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() >= deadline) {
      const more = describe ? `\n${await describe()}` : "";
      throw new Error(`no ${what} within ${timeoutMs} ms${more}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/*
 * A directory for a store that outlives one ferry process: its database
 * and key file. remove() when done.
 */
export function makeStore() {
  const dir = mkdtempSync(join(tmpdir(), "ferry-deliver-"));
  return {
    dir,
    db: join(dir, "ferry.db"),
    key: join(dir, "ferry.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/*
 * The whole config for a ferry on `store`: SANDBOX provider, private
 * destinations as `allowPrivate` says, `deliver` as [deliver] keys.
 */
export function deliveryConfig(store, options = {}) {
  const lines = [
    "[server]",
    "listen = 127.0.0.1:0",
    "",
    "[store]",
    `url = sqlite:${store.db}`,
    "",
    "[security]",
    `key_file = ${store.key}`,
    `allow_private_destinations = ${options.allowPrivate ? "true" : "false"}`,
    "",
    "[deliver]",
  ];
  for (const [k, v] of Object.entries(options.deliver ?? {})) {
    lines.push(`${k} = ${v}`);
  }
  lines.push("", "[provider sandbox]", "");
  if (options.extra) {
    lines.push(options.extra, "");
  }
  return lines.join("\n");
}

/* startFerry() on `store` with deliveryConfig(store, options). */
export function startFerryOn(store, options = {}) {
  return startFerry({
    replaceConfig: () => deliveryConfig(store, options),
    env: options.env,
  });
}

/*
 * Run `text` with the sqlite3 CLI on `db` (waiting for ferry's locks);
 * its stdout. options.json: parse the output of `-json` mode.
 */
export function sql(db, text, options = {}) {
  const args = ["-batch", "-bail", "-cmd", ".timeout 10000"];
  if (options.json) {
    args.push("-json");
  }
  args.push(db);
  return new Promise((resolveSql, reject) => {
    const child = execFile(
      "sqlite3",
      args,
      { timeout: 30000, maxBuffer: 64 << 20, encoding: "utf8" },
      (err, out, errText) => {
        if (err) {
          reject(new Error(`sqlite3 failed: ${err.message}\n${errText}`));
          return;
        }
        if (!options.json) {
          resolveSql(out);
          return;
        }
        resolveSql(out.trim() === "" ? [] : JSON.parse(out));
      },
    );
    child.stdin.end(text);
  });
}

function q(s) {
  return s === null || s === undefined
    ? "NULL"
    : `'${String(s).replace(/'/g, "''")}'`;
}

/* `n` SANDBOX users of `devId`, added as rows; their ids. */
/*
 * `n` users of `devId` written straight into the store. Their provider
 * is one no server enables, so the data pipeline leaves them alone (a
 * SANDBOX user without a token would end in a connection_error event).
 */
export async function insertUsers(db, devId, n, prefix = "u") {
  const ids = [];
  const now = Date.now() * 1000;
  let text = "BEGIN;\n";
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    ids.push(id);
    text +=
      "INSERT INTO users (id, dev_id, provider, provider_user_id," +
      " reference_id, created_at, updated_at) VALUES (" +
      `${q(id)}, ${q(devId)}, 'NOT_ENABLED', ${q(`${prefix}-${i}-${id}`)},` +
      ` ${q(`${prefix}-${i}`)}, ${now}, ${now});\n`;
  }
  text += "COMMIT;\n";
  await sql(db, text);
  return ids;
}

/*
 * Events to add, one per spec {userId, type, seq, reference}, each with
 * an id of its own and a body: an object of the type holding `seq` and
 * the event id under "ferry", with spacing, non-ASCII characters and
 * escapes that any re-encoding would change. [{id, userId, type, seq,
 * reference, body (the exact text to store)}]. A spec that is already
 * such an event is kept as it is.
 */
export function planEvents(specs) {
  return specs.map((s, i) => {
    if (s.id && s.body) {
      return s;
    }
    const id = s.id ?? randomUUID();
    const type = s.type ?? "activity";
    const seq = s.seq ?? i;
    const user = s.userId
      ? { user_id: s.userId, provider: "SANDBOX", reference_id: null }
      : null;
    const body =
      `{"type":"${type}", "seq":${seq},"user":` +
      `${JSON.stringify(user)},"version":"2022-03-16",` +
      `"data":[{"note":"caf\u00e9 \u2615 \\u00e9 \\"q\\""}],` +
      `"ferry":{"event_id":"${id}"}}`;
    return {
      id,
      userId: s.userId ?? null,
      type,
      seq,
      reference: s.reference ?? null,
      body,
    };
  });
}

/*
 * Add events of `devId` as rows (specs as planEvents() takes them, or
 * its result), in one transaction and in the order given, created_at
 * rising by one microsecond each; the trigger queues their deliveries.
 * The events as planEvents() gives them.
 */
export async function insertEvents(db, devId, specs) {
  const out = planEvents(specs);
  const t0 = Date.now() * 1000;
  let text = "BEGIN;\n";
  out.forEach((ev, i) => {
    text +=
      "INSERT INTO events (id, dev_id, user_id, type, reference, body," +
      " created_at) VALUES (" +
      `${q(ev.id)}, ${q(devId)}, ${q(ev.userId)}, ${q(ev.type)},` +
      ` ${q(ev.reference)}, ${q(ev.body)}, ${t0 + i});\n`;
  });
  text += "COMMIT;\n";
  await sql(db, text);
  return out;
}

/* `ferry destination add DEV webhook URL --json`, parsed. */
export async function addWebhook(ferry, devId, url) {
  const out = await ferry.cli([
    "destination",
    "add",
    devId,
    "webhook",
    url,
    "--json",
  ]);
  return JSON.parse(out);
}

/* `ferry events show ID --json`, parsed. */
export async function showEvent(ferry, id) {
  const out = await ferry.cli(["events", "show", id, "--json"]);
  return JSON.parse(out);
}

/*
 * The samples of /metrics named `name`, as [{labels, value}].
 */
export async function metric(ferry, name) {
  const res = await fetch(`${ferry.baseUrl}/metrics`, {
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`/metrics: ${res.status}\n${text}`);
  }
  const out = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(name)) {
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) {
      continue;
    }
    const labels = {};
    for (const lm of (m[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[lm[1]] = lm[2];
    }
    out.push({ labels, value: Number(m[4]) });
  }
  return out;
}

/* ferry_deliveries_total by outcome: {delivered, retried, dead}. */
export async function deliveryCounts(ferry) {
  const counts = { delivered: 0, retried: 0, dead: 0, cancelled: 0 };
  for (const s of await metric(ferry, "ferry_deliveries_total")) {
    counts[s.labels.outcome] = s.value;
  }
  return counts;
}

function hiddenValue(html, name) {
  const re = new RegExp(
    `<input[^>]*name="${name}"[^>]*value="([^"]*)"|` +
      `<input[^>]*value="([^"]*)"[^>]*name="${name}"`,
  );
  const m = re.exec(html);
  if (!m) {
    throw new Error(`no hidden ${name} in:\n${html.slice(0, 2000)}`);
  }
  return (m[1] ?? m[2])
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

async function step(url, init = {}) {
  const res = await fetch(url, {
    redirect: "manual",
    signal: AbortSignal.timeout(10000),
    ...init,
  });
  return { status: res.status, location: res.headers.get("location"),
    text: await res.text() };
}

/*
 * A whole direct connection (authenticateUser, the start link, the
 * SANDBOX login and consent, the callback) for `dev` without a browser,
 * as `username` with `referenceId`; the new user's id. ferry records an
 * auth event for it.
 */
export async function connectSandbox(ferry, dev, username, referenceId) {
  const auth = await step(
    `${ferry.baseUrl}/v2/auth/authenticateUser?resource=SANDBOX`,
    {
      method: "POST",
      headers: {
        "dev-id": dev.dev_id,
        "x-api-key": dev.api_key,
        "content-type": "application/json",
      },
      body: JSON.stringify({ reference_id: referenceId ?? username }),
    },
  );
  if (auth.status !== 200) {
    throw new Error(`authenticateUser: ${auth.status} ${auth.text}`);
  }
  const { user_id: userId, auth_url: authUrl } = JSON.parse(auth.text);
  const start = await step(authUrl);
  if (start.status !== 302) {
    throw new Error(`start link: ${start.status} ${start.text}`);
  }
  const loginUrl = new URL(start.location, ferry.baseUrl).href;
  const login = await step(loginUrl);
  if (login.status !== 200) {
    throw new Error(`sandbox login page: ${login.status} ${login.text}`);
  }
  const action = `${ferry.baseUrl}/sandbox/oauth/authorize`;
  const form = (fields) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const consent = await step(
    action,
    form({
      step: "login",
      request: hiddenValue(login.text, "request"),
      username,
    }),
  );
  if (consent.status !== 200) {
    throw new Error(`sandbox consent page: ${consent.status}`);
  }
  const done = await step(
    action,
    form({
      step: "consent",
      request: hiddenValue(consent.text, "request"),
      decision: "allow",
    }),
  );
  if (done.status !== 302) {
    throw new Error(`consent: ${done.status} ${done.text}`);
  }
  const cb = await step(new URL(done.location, ferry.baseUrl).href);
  if (cb.status >= 400) {
    throw new Error(`callback: ${cb.status} ${cb.text}`);
  }
  return userId;
}

/* DELETE /v2/auth/deauthenticateUser for `userId`: ferry records a
 * deauth event. */
export async function deauthenticate(ferry, dev, userId) {
  const res = await step(
    `${ferry.baseUrl}/v2/auth/deauthenticateUser?user_id=${userId}`,
    {
      method: "DELETE",
      headers: { "dev-id": dev.dev_id, "x-api-key": dev.api_key },
    },
  );
  if (res.status !== 200) {
    throw new Error(`deauthenticateUser: ${res.status} ${res.text}`);
  }
  return JSON.parse(res.text);
}
