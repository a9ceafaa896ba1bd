// mock_oura.mjs - Oura's API v2 as its documentation describes it, on
// 127.0.0.1, serving tests/fixtures/oura/: the OAuth endpoints, the
// usercollection routes with their pages, the webhook subscription
// routes (with the callback verification Oura does on creation) and
// signed webhook notices.
//
//   import { start } from "./lib/mock_oura.mjs";
//   const oura = await start({ clientId: "id", clientSecret: "secret" });
//   ... [provider oura] authorize_url = oura.url + "/oauth/authorize",
//       token_url = oura.url + "/oauth/token", api_url = oura.url ...
//   oura.setFixtures("sleep", [...]);        // replace one collection
//   oura.failNext(429, { retryAfter: 2 });   // the next request fails
//   oura.failNext(500, { path: "/oauth/token" }); // the next refresh fails
//   oura.expireTokens();                      // access tokens: 401
//   oura.expireRefreshTokens();               // refreshes: invalid_grant
//   await oura.push(hookUrl, { data_type: "sleep", object_id: "..." });
//   await oura.notify("create", "sleep", id); // to every subscription
//   oura.requests                             // what arrived
//   after(() => oura.stop());
//
// Options of start():
//   clientId, clientSecret  the app (defaults "oura-test-client" and a
//                           random secret, in oura.clientSecret)
//   pageSize                documents per page (default 2, so pages show)
//   tokenLifetime           expires_in of access tokens (default 86400)
//   subscriptionDays        lifetime of a webhook subscription (90)
//   fixtures                the fixture folder (tests/fixtures/oura)
//   userId                  the Oura user (personal_info's id)
//   grantScopes             the scopes a login grants (default: all asked)
//   verifyCallbacks         GET the callback on creation (default true)
//
// Quirks reproduced: client credentials in the token request body, not
// Basic; refresh tokens are single use (a used one is invalid_grant);
// revocation takes the token in the query string; `vO2_max` keeps its
// capital O; heartrate takes start_datetime/end_datetime and at most 30
// days; day collections match `day` within [start_date, end_date];
// subscriptions are one per (data_type, event_type) (409 otherwise),
// need x-client-id and x-client-secret, and expire; a 429 carries
// Retry-After and the X-RateLimit-* headers.
//
// Every request is recorded in `requests` as { at, method, path, query,
// headers, body, status }.

import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "..", "..", "fixtures", "oura");
const MAX_BODY = 256 * 1024;
const DAY_MS = 86400 * 1000;

// Collections filtered by a day field, and which one.
const DAY_FIELD = {
  daily_activity: "day",
  daily_cardiovascular_age: "day",
  daily_readiness: "day",
  daily_resilience: "day",
  daily_sleep: "day",
  daily_spo2: "day",
  daily_stress: "day",
  enhanced_tag: "start_day",
  rest_mode_period: "start_day",
  session: "day",
  sleep: "day",
  sleep_time: "day",
  tag: "day",
  vO2_max: "day",
  workout: "day",
};
// Collections listed without a window.
const NO_WINDOW = new Set(["ring_configuration"]);
// The webhook data types Oura has.
const HOOK_TYPES = new Set([
  "tag",
  "enhanced_tag",
  "workout",
  "session",
  "sleep",
  "daily_sleep",
  "daily_readiness",
  "daily_activity",
  "daily_spo2",
  "sleep_time",
  "rest_mode_period",
  "ring_configuration",
  "daily_stress",
  "daily_cardiovascular_age",
  "daily_resilience",
  "vo2_max",
  "meal",
]);
const EVENT_TYPES = new Set(["create", "update", "delete"]);
const NO_SUCH_HOOK = "Webhook with specified id does not exist.";

function loadFixtures(dir) {
  const out = {};
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".json") || f.startsWith("webhook_")) {
      continue;
    }
    const j = JSON.parse(readFileSync(join(dir, f), "utf8"));
    out[f.slice(0, -5)] = Array.isArray(j.data) ? j.data : j;
  }
  return out;
}

function json(res, status, body, headers = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...(text !== "" ? { "content-type": "application/json" } : {}),
    ...headers,
  });
  res.end(text);
}

function isoDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

// Oura's date-time text: +00:00, no fraction.
function isoTime(ms) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "+00:00");
}

function validDate(s) {
  return (
    typeof s === "string" &&
    /^\d{4}-\d{2}-\d{2}$/.test(s) &&
    !Number.isNaN(Date.parse(s + "T00:00:00Z"))
  );
}

export async function start(options = {}) {
  const clientId = options.clientId ?? "oura-test-client";
  const clientSecret = options.clientSecret ?? randomBytes(16).toString("hex");
  const pageSize = options.pageSize ?? 2;
  const tokenLifetime = options.tokenLifetime ?? 86400;
  const subscriptionDays = options.subscriptionDays ?? 90;
  const verifyCallbacks = options.verifyCallbacks ?? true;
  const fixtures = loadFixtures(options.fixtures ?? FIXTURES);
  const userId =
    options.userId ?? fixtures.personal_info?.id ?? "oura-test-user";

  const requests = [];
  const codes = new Map(); // code -> { redirectUri, scope }
  const access = new Map(); // token -> { expires, scope }
  const refresh = new Map(); // token -> { scope }
  const subscriptions = [];
  const failures = [];

  function issue(scope) {
    const at = randomBytes(24).toString("base64url");
    const rt = randomBytes(24).toString("base64url");
    access.set(at, { expires: Date.now() + tokenLifetime * 1000, scope });
    refresh.set(rt, { scope });
    return {
      access_token: at,
      token_type: "bearer",
      expires_in: tokenLifetime,
      refresh_token: rt,
      scope,
    };
  }

  // ---- OAuth ----

  function authorize(url, res) {
    const q = url.searchParams;
    const redirect = q.get("redirect_uri");
    if (q.get("client_id") !== clientId || !redirect) {
      return json(res, 400, { error: "invalid_request" });
    }
    const back = new URL(redirect);
    if (q.get("state") !== null) {
      back.searchParams.set("state", q.get("state"));
    }
    if (options.deny) {
      back.searchParams.set("error", "access_denied");
    } else {
      const scope = options.grantScopes ?? q.get("scope") ?? "";
      const code = randomBytes(16).toString("base64url");
      codes.set(code, { redirectUri: redirect, scope });
      back.searchParams.set("code", code);
      back.searchParams.set("scope", scope);
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  function token(form, res) {
    if (
      form.get("client_id") !== clientId ||
      form.get("client_secret") !== clientSecret
    ) {
      return json(res, 401, { error: "invalid_client" });
    }
    if (form.get("grant_type") === "authorization_code") {
      const c = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      if (!c || c.redirectUri !== form.get("redirect_uri")) {
        return json(res, 400, { error: "invalid_grant" });
      }
      return json(res, 200, issue(c.scope));
    }
    if (form.get("grant_type") === "refresh_token") {
      const r = refresh.get(form.get("refresh_token") ?? "");
      if (!r) {
        return json(res, 400, { error: "invalid_grant" });
      }
      // single use: the old refresh token dies with this refresh
      refresh.delete(form.get("refresh_token"));
      return json(res, 200, issue(r.scope));
    }
    return json(res, 400, { error: "unsupported_grant_type" });
  }

  function revoke(url, res) {
    const t = url.searchParams.get("access_token") ?? "";
    if (!access.delete(t)) {
      return json(res, 400, { error: "invalid_token" });
    }
    return json(res, 200, {});
  }

  // ---- data ----

  function bearer(req) {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "");
    const t = m ? access.get(m[1]) : undefined;
    return t && t.expires > Date.now() ? t : null;
  }

  function page(res, docs, params, offset) {
    const slice = docs.slice(offset, offset + pageSize);
    const more = offset + pageSize < docs.length;
    const next = more
      ? Buffer.from(
          JSON.stringify({ ...params, offset: offset + pageSize }),
        ).toString("base64url")
      : null;
    return json(res, 200, { data: slice, next_token: next });
  }

  function readToken(q) {
    const t = q.get("next_token");
    if (t === null) {
      return null;
    }
    try {
      return JSON.parse(Buffer.from(t, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
  }

  function collection(name, q, res) {
    const docs = fixtures[name];
    if (docs === undefined || name === "personal_info") {
      return json(res, 404, { detail: "Not Found" });
    }
    const tok = readToken(q);
    if (tok === undefined) {
      return json(res, 400, { detail: "invalid next_token" });
    }
    if (name === "heartrate") {
      const p = tok ?? {
        from: q.get("start_datetime"),
        to: q.get("end_datetime"),
      };
      const from = Date.parse(p.from ?? "");
      const to = p.to ? Date.parse(p.to) : Date.now();
      if (Number.isNaN(from) || Number.isNaN(to) || to < from) {
        return json(res, 400, { detail: "start_datetime/end_datetime" });
      }
      if (to - from > 30 * DAY_MS) {
        return json(res, 400, {
          detail: "Start and end datetimes must be at most 30 days apart",
        });
      }
      const rows = docs.filter((r) => {
        const t = Date.parse(r.timestamp);
        return t >= from && t <= to;
      });
      return page(res, rows, p, tok?.offset ?? 0);
    }
    if (NO_WINDOW.has(name)) {
      return page(res, docs, {}, tok?.offset ?? 0);
    }
    const p = tok ?? {
      start: q.get("start_date"),
      end: q.get("end_date") ?? isoDate(Date.now()),
    };
    // without start_date Oura gives the day before end_date
    p.start = p.start ?? isoDate(Date.parse(p.end + "T00:00:00Z") - DAY_MS);
    if (!validDate(p.start) || !validDate(p.end)) {
      return json(res, 422, {
        detail: [
          {
            loc: ["query", "start_date"],
            msg: "invalid date",
            type: "value_error",
          },
        ],
      });
    }
    const field = DAY_FIELD[name] ?? "day";
    const hits = docs.filter(
      (d) => d[field] >= p.start && d[field] <= p.end,
    );
    return page(res, hits, p, tok?.offset ?? 0);
  }

  function data(req, url, res) {
    if (bearer(req) === null) {
      return json(res, 401, { detail: "Invalid or expired token" });
    }
    const parts = url.pathname.split("/").slice(3); // after /v2/usercollection
    const name = decodeURIComponent(parts[0] ?? "");
    if (name === "personal_info" && parts.length === 1) {
      return json(res, 200, fixtures.personal_info ?? { id: userId });
    }
    if (parts.length === 1) {
      return collection(name, url.searchParams, res);
    }
    if (parts.length === 2 && Array.isArray(fixtures[name])) {
      const id = decodeURIComponent(parts[1]);
      const doc = fixtures[name].find((d) => d.id === id);
      return doc
        ? json(res, 200, doc)
        : json(res, 404, { detail: "Not Found" });
    }
    return json(res, 404, { detail: "Not Found" });
  }

  // ---- webhook subscriptions ----

  function expiry() {
    return isoTime(Date.now() + subscriptionDays * DAY_MS);
  }

  // Oura's check of a callback: GET with verification_token and
  // challenge, answered with {"challenge": <challenge>}.
  async function verifyCallback(url, token) {
    if (!verifyCallbacks) {
      return true;
    }
    const challenge = randomBytes(12).toString("hex");
    const u = new URL(url);
    u.searchParams.set("verification_token", token);
    u.searchParams.set("challenge", challenge);
    try {
      const r = await fetch(u, { signal: AbortSignal.timeout(10000) });
      const body = await r.json().catch(() => null);
      return r.ok && body !== null && body.challenge === challenge;
    } catch {
      return false;
    }
  }

  function subscriptionBody(b, create) {
    if (b === null || typeof b !== "object") {
      return "the body is not a JSON object";
    }
    if (typeof b.verification_token !== "string") {
      return "verification_token is required";
    }
    if (create || b.callback_url !== undefined) {
      if (typeof b.callback_url !== "string") {
        return "callback_url is required";
      }
    }
    if (create || b.event_type !== undefined) {
      if (!EVENT_TYPES.has(b.event_type)) {
        return "event_type must be create, update or delete";
      }
    }
    if (create || b.data_type !== undefined) {
      if (!HOOK_TYPES.has(b.data_type)) {
        return "data_type is not a webhook data type";
      }
    }
    return null;
  }

  async function webhook(req, url, body, res) {
    if (
      req.headers["x-client-id"] !== clientId ||
      req.headers["x-client-secret"] !== clientSecret
    ) {
      return json(res, 401, { detail: "Invalid client credentials" });
    }
    const rest = url.pathname.slice("/v2/webhook/subscription".length);
    const renew = /^\/renew\/([^/]+)$/.exec(rest);
    const one = /^\/([^/]+)$/.exec(rest);
    let b = null;
    if (body !== "") {
      try {
        b = JSON.parse(body);
      } catch {
        return json(res, 400, { detail: "the body is not JSON" });
      }
    }
    if (rest === "" && req.method === "GET") {
      return json(res, 200, subscriptions);
    }
    if (rest === "" && req.method === "POST") {
      const bad = subscriptionBody(b, true);
      if (bad) {
        return json(res, 422, {
          detail: [{ loc: ["body"], msg: bad, type: "value_error" }],
        });
      }
      if (
        subscriptions.some(
          (s) => s.data_type === b.data_type && s.event_type === b.event_type,
        )
      ) {
        return json(res, 409, { detail: "Subscription already exists" });
      }
      if (!(await verifyCallback(b.callback_url, b.verification_token))) {
        return json(res, 400, { detail: "Callback verification failed" });
      }
      const s = {
        id: randomUUID(),
        callback_url: b.callback_url,
        event_type: b.event_type,
        data_type: b.data_type,
        expiration_time: expiry(),
        verification_token: b.verification_token,
      };
      subscriptions.push(s);
      return json(res, 201, publicSub(s));
    }
    if (renew && req.method === "PUT") {
      const s = subscriptions.find((x) => x.id === renew[1]);
      if (!s) {
        return json(res, 403, { detail: NO_SUCH_HOOK });
      }
      s.expiration_time = expiry();
      return json(res, 200, publicSub(s));
    }
    if (one) {
      const id = decodeURIComponent(one[1]);
      const i = subscriptions.findIndex((x) => x.id === id);
      if (i < 0) {
        return json(res, 403, { detail: NO_SUCH_HOOK });
      }
      const s = subscriptions[i];
      if (req.method === "GET") {
        return json(res, 200, publicSub(s));
      }
      if (req.method === "DELETE") {
        subscriptions.splice(i, 1);
        return json(res, 204);
      }
      if (req.method === "PUT") {
        const bad = subscriptionBody(b, false);
        if (bad) {
          return json(res, 422, {
            detail: [{ loc: ["body"], msg: bad, type: "value_error" }],
          });
        }
        if (
          b.callback_url !== undefined &&
          b.callback_url !== s.callback_url &&
          !(await verifyCallback(b.callback_url, b.verification_token))
        ) {
          return json(res, 400, { detail: "Callback verification failed" });
        }
        s.callback_url = b.callback_url ?? s.callback_url;
        s.event_type = b.event_type ?? s.event_type;
        s.data_type = b.data_type ?? s.data_type;
        s.verification_token = b.verification_token;
        return json(res, 200, publicSub(s));
      }
    }
    return json(res, 405, { detail: "Method Not Allowed" });
  }

  function publicSub(s) {
    const { verification_token: _t, ...rest } = s;
    return rest;
  }

  // ---- the server ----

  const server = createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_BODY) {
        chunks.push(c);
      }
    });
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url, "http://127.0.0.1");
      const hit = {
        at: Date.now(),
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...req.headers },
        body,
        status: 0,
      };
      requests.push(hit);
      const end = res.end.bind(res);
      res.end = (...args) => {
        hit.status = res.statusCode;
        return end(...args);
      };
      try {
        await route(req, url, body, res);
      } catch (err) {
        json(res, 500, { detail: String(err) });
      }
    });
  });

  async function route(req, url, body, res) {
    const i = failures.findIndex(
      (x) => x.path === undefined || x.path === url.pathname,
    );
    const f = i < 0 ? undefined : failures.splice(i, 1)[0];
    if (f !== undefined) {
      const headers = {};
      if (f.status === 429) {
        const wait = f.retryAfter ?? 1;
        headers["retry-after"] = String(wait);
        headers["x-ratelimit-limit"] = "5000";
        headers["x-ratelimit-window"] = "300";
        headers["x-ratelimit-reset"] = String(
          Math.floor(Date.now() / 1000) + wait,
        );
        headers["x-ratelimit-tier"] = f.tier ?? "application";
      }
      const answer = f.body ?? { detail: "injected failure" };
      return json(res, f.status, answer, headers);
    }
    const p = url.pathname;
    if (p === "/oauth/authorize" && req.method === "GET") {
      return authorize(url, res);
    }
    if (p === "/oauth/token" && req.method === "POST") {
      return token(new URLSearchParams(body), res);
    }
    if (p === "/oauth/revoke" && req.method === "POST") {
      return revoke(url, res);
    }
    if (p.startsWith("/v2/usercollection/") && req.method === "GET") {
      return data(req, url, res);
    }
    if (
      p === "/v2/webhook/subscription" ||
      p.startsWith("/v2/webhook/subscription/")
    ) {
      return webhook(req, url, body, res);
    }
    return json(res, 404, { detail: "Not Found" });
  }

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

  // The signature Oura puts on a notice: upper-case hex HMAC-SHA256
  // under the client secret of the timestamp followed by the body.
  function sign(timestamp, body, secret = clientSecret) {
    return createHmac("sha256", secret)
      .update(timestamp + body)
      .digest("hex")
      .toUpperCase();
  }

  /*
   * POST a notice to `url` as Oura does. `notice` may give event_type
   * (create), data_type, object_id, user_id (this user), event_time
   * (now); `opts` may give secret (another key), timestamp (unix
   * seconds, now), signature (sent as is) or body (raw text sent as is).
   * Resolves to { status, body }.
   */
  async function push(url, notice = {}, opts = {}) {
    const body =
      opts.body ??
      JSON.stringify({
        event_type: notice.event_type ?? "create",
        data_type: notice.data_type ?? "sleep",
        object_id: notice.object_id ?? "",
        event_time: notice.event_time ?? isoTime(Date.now()),
        user_id: notice.user_id ?? userId,
      });
    const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = opts.signature ?? sign(timestamp, body, opts.secret);
    const r = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-oura-signature": signature,
        "x-oura-timestamp": timestamp,
      },
      body,
      signal: AbortSignal.timeout(10000),
    });
    return { status: r.status, body: await r.text() };
  }

  // A notice to every subscription of (event_type, data_type).
  async function notify(eventType, dataType, objectId, user = userId) {
    const out = [];
    for (const s of subscriptions) {
      if (s.event_type === eventType && s.data_type === dataType) {
        out.push(
          await push(s.callback_url, {
            event_type: eventType,
            data_type: dataType,
            object_id: objectId,
            user_id: user,
          }),
        );
      }
    }
    return out;
  }

  return {
    url: base,
    clientId,
    clientSecret,
    userId,
    requests,
    subscriptions,
    // The documents of `collection` (an array; personal_info an object).
    setFixtures(collection, docs) {
      fixtures[collection] = docs;
    },
    fixtures,
    // Answer the next request (the next one to opts.path, when given)
    // with `status` and opts.body (429: with Retry-After of
    // opts.retryAfter seconds and the X-RateLimit-* headers).
    failNext(status, opts = {}) {
      failures.push({ status, ...opts });
    },
    // A code as a completed login would give, for tests that skip the
    // browser.
    code(redirectUri, scope = "daily heartrate personal workout session") {
      const c = randomBytes(16).toString("base64url");
      codes.set(c, { redirectUri, scope });
      return c;
    },
    // Expire every access token now (the next data call answers 401).
    expireTokens() {
      for (const t of access.values()) {
        t.expires = 0;
      }
    },
    // Forget every refresh token issued so far, as when the user
    // revoked the app: refreshing with one answers invalid_grant.
    expireRefreshTokens() {
      refresh.clear();
    },
    sign,
    push,
    notify,
    hits(path) {
      return requests.filter((r) => r.path === path);
    },
    async stop() {
      await new Promise((resolveClose) => {
        server.close(() => resolveClose());
        for (const s of sockets) {
          s.destroy();
        }
      });
    },
  };
}

// The same, by the name the other provider mocks use.
export const startOura = start;
