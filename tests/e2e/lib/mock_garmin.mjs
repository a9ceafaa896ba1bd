// mock_garmin.mjs - Garmin Connect Developer Program on 127.0.0.1, as its
// Start Guide, Health API and Activity API documents describe it: the
// OAuth 2.0 PKCE login, the user endpoints, the backfill endpoints that
// answer 202 and deliver later by push (or ping), the ping callbacks,
// and pushes sent the way Garmin sends them.
//
//   import { start, fixture } from "./lib/mock_garmin.mjs";
//   const garmin = await start({ hookUrl: `${ferry.baseUrl}/hooks/garmin/T` });
//   garmin.setFixtures(fixture("push_dailies.json"));
//   ... [provider garmin] authorize_url = garmin.authorizeUrl, etc. ...
//   await garmin.push(hook, fixture("push_sleeps.json"));
//   garmin.failNext(429);
//   after(() => garmin.stop());
//
// What it does, as Garmin documents it:
//   GET  /oauth2Confirm                  authorize; PKCE S256 is required;
//                                        scopes are the app's, not asked
//   POST /di-oauth2-service/oauth/token  form body with client_id and
//                                        client_secret (not Basic);
//                                        authorization_code (code_verifier
//                                        checked) and refresh_token (the
//                                        refresh token rotates)
//   GET  /wellness-api/rest/user/id      {"userId": ...}
//   GET  /wellness-api/rest/user/permissions
//   DELETE /wellness-api/rest/user/registration
//                                        204; the tokens die and a last
//                                        deregistration push follows
//   GET  /wellness-api/rest/backfill/<type>?summaryStartTimeInSeconds=
//        &summaryEndTimeInSeconds=       202 with no body; the fixtures of
//                                        that type and user recorded in
//                                        the window are pushed (or pinged)
//                                        to hookUrl afterwards. 400 for a
//                                        bad range (seconds, not ms; at
//                                        most 30 days for activity types,
//                                        90 for health ones), 409 for a
//                                        window overlapping one asked
//                                        before, 412 without
//                                        HISTORICAL_DATA_EXPORT, 429 past
//                                        the days-per-minute budget
//   GET  /wellness-api/rest/<type>?uploadStartTimeInSeconds=
//        &uploadEndTimeInSeconds=&token= the ping callback: the summaries
//                                        the ping announced (24 hours at
//                                        most; the token must match)
// Also under /partner-gateway/rest/user/{id,permissions,registration}.
// Errors are {"errorMessage": "..."} (Appendix E); OAuth errors are
// {"error", "error_description"}.
//
// Every request is recorded in `requests` as { at, method, path, query,
// headers, body, form, status }.

import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const MAX_BODY = 1 << 20;
const DAY = 86400;

// Summary types by backfill path, with the push key they arrive under
// and the longest backfill window Garmin takes for them.
const TYPES = {
  dailies: { key: "dailies", maxDays: 90 },
  epochs: { key: "epochs", maxDays: 90 },
  sleeps: { key: "sleeps", maxDays: 90 },
  bodyComps: { key: "bodyComps", maxDays: 90 },
  stressDetails: { key: "stressDetails", maxDays: 90 },
  userMetrics: { key: "userMetrics", maxDays: 90 },
  pulseOx: { key: "pulseox", maxDays: 90 },
  respiration: { key: "allDayRespiration", maxDays: 90 },
  healthSnapshot: { key: "healthSnapshot", maxDays: 90 },
  hrv: { key: "hrv", maxDays: 90 },
  bloodPressures: { key: "bloodPressures", maxDays: 90 },
  skinTemp: { key: "skinTemp", maxDays: 90 },
  activities: { key: "activities", maxDays: 30 },
  activityDetails: { key: "activityDetails", maxDays: 30 },
  moveiq: { key: "moveIQActivities", maxDays: 30 },
  mct: { key: "mct", maxDays: 90 },
};

const PUSH_KEYS = new Set([
  ...Object.values(TYPES).map((t) => t.key),
  "manuallyUpdatedActivities",
]);

const ALL_PERMISSIONS = [
  "ACTIVITY_EXPORT",
  "HEALTH_EXPORT",
  "HISTORICAL_DATA_EXPORT",
  "MCT_EXPORT",
];

// The S256 PKCE challenge of a verifier (RFC 7636 4.2).
export function pkceChallenge(verifier) {
  return createHash("sha256").update(verifier).digest("base64url");
}

// A fixture of tests/fixtures/garmin, parsed.
export function fixture(name) {
  const url = new URL(`../../fixtures/garmin/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8"));
}

// When a summary happened (unix seconds), for backfill windows.
function summaryTime(item) {
  const s = item.summary ?? item;
  for (const k of [
    "startTimeInSeconds",
    "measurementTimeInSeconds",
    "napStartTimeInSeconds",
  ]) {
    if (typeof s[k] === "number") {
      return s[k];
    }
  }
  if (typeof s.calendarDate === "string") {
    return Date.parse(`${s.calendarDate}T00:00:00Z`) / 1000;
  }
  return null;
}

// Garmin's answer to a time in milliseconds (Appendix E).
function inMilliseconds(t) {
  return `timestamp '${t}' appears to be in milliseconds. ` +
    "Please provide unix timestamps in seconds.";
}

function token(prefix) {
  return `${prefix}${randomBytes(18).toString("base64url")}`;
}

/*
 * Start the server. Options (all optional):
 *   clientId, clientSecret   the app (random when not given)
 *   users       [{ userId, permissions }]; one is made when none
 *   hookUrl     where pushes go (also settable later: garmin.hookUrl = )
 *   mode        "push" (data inline) or "ping" (callbackURLs)
 *   expiresIn   access token lifetime in seconds (86400)
 *   daysPerMinute  backfill budget (100, an evaluation key's)
 *   enabled     the backfill types enabled in API Tools (all)
 *   deliveryDelayMs  how long after a 202 the data is pushed (50)
 * Returns an object with:
 *   url, authorizeUrl, tokenUrl, userIdUrl, clientId, clientSecret
 *   users       Map userId -> { userId, permissions, registered }
 *   requests    what arrived; hits(path) those to one path
 *   pushes      what was sent to hooks: { url, body, status }
 *   setFixtures({ type: [summaries] })  by push key (merged in)
 *   issueTokens(userId)  an access and refresh token, as a login gives
 *   expireTokens()       make every access token expired
 *   failNext(status, body?)  answer the next API request so
 *   push(url, body, { clientId, headers })  POST as Garmin does
 *   pushSummaries(url, key, items, { mode })  push or ping `items`
 *   deregister(url, userId)      a deregistration push
 *   changePermissions(url, userId, permissions)
 *   idle()      resolves once every scheduled delivery was sent
 *   stop()
 */
export async function start(options = {}) {
  const clientId =
    options.clientId ?? `garmin-${randomBytes(8).toString("hex")}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("hex");
  const expiresIn = options.expiresIn ?? 86400;
  const daysPerMinute = options.daysPerMinute ?? 100;
  const enabled = new Set(options.enabled ?? Object.keys(TYPES));
  const deliveryDelayMs = options.deliveryDelayMs ?? 50;

  const requests = [];
  const pushes = [];
  const users = new Map();
  const access = new Map(); // token -> { userId, expiresAt }
  const refresh = new Map(); // token -> userId
  const codes = new Map(); // code -> { userId, challenge, redirectUri }
  const asked = new Map(); // `${userId}/${type}` -> [[start, end]]
  const pulls = new Map(); // pull token -> { userId, key, items, lo, hi }
  const budget = []; // [{ at, days }] of the last minute
  const fixtures = {};
  const pending = new Set();
  let failure = null;

  for (const u of options.users ?? [{}]) {
    const userId = u.userId ?? randomBytes(16).toString("hex");
    users.set(userId, {
      userId,
      permissions: [...(u.permissions ?? ALL_PERMISSIONS)],
      registered: true,
    });
  }

  const state = {
    hookUrl: options.hookUrl ?? null,
    mode: options.mode ?? "push",
  };

  function send(res, status, body, headers = {}) {
    res.statusCode = status;
    for (const [k, v] of Object.entries(headers)) {
      res.setHeader(k, v);
    }
    if (body === undefined) {
      res.end();
      return;
    }
    res.setHeader("content-type", "application/json;charset=utf-8");
    res.end(JSON.stringify(body));
  }

  function apiError(res, status, message, headers) {
    send(res, status, { errorMessage: message }, headers);
  }

  function oauthError(res, status, error, description) {
    send(res, status, { error, error_description: description });
  }

  function bearer(req) {
    const h = req.headers.authorization ?? "";
    const m = /^Bearer (\S+)$/.exec(h);
    if (m === null) {
      return null;
    }
    const t = access.get(m[1]);
    if (t === undefined || t.expiresAt <= Date.now() / 1000) {
      return null;
    }
    const u = users.get(t.userId);
    return u !== undefined && u.registered ? u : null;
  }

  function issueTokens(userId) {
    const a = token("ga-");
    const r = token("gr-");
    access.set(a, { userId, expiresAt: Date.now() / 1000 + expiresIn });
    refresh.set(r, userId);
    return {
      access_token: a,
      token_type: "bearer",
      expires_in: expiresIn,
      refresh_token: r,
      refresh_token_expires_in: 7775999,
      scope: "PARTNER_WRITE PARTNER_READ CONNECT_READ CONNECT_WRITE",
      jti: randomBytes(16).toString("hex"),
    };
  }

  function authorize(req, res, q) {
    const u = [...users.values()][0];
    if (q.get("client_id") !== clientId) {
      send(res, 400, { error: "invalid_client" });
      return;
    }
    if (q.get("response_type") !== "code") {
      send(res, 400, { error: "unsupported_response_type" });
      return;
    }
    if (!q.get("code_challenge") || q.get("code_challenge_method") !== "S256") {
      // Garmin's OAuth 2.0 requires PKCE with S256
      send(res, 400, { error: "invalid_request", error_description: "PKCE" });
      return;
    }
    const code = token("gc-");
    codes.set(code, {
      userId: u.userId,
      challenge: q.get("code_challenge"),
      redirectUri: q.get("redirect_uri"),
    });
    const to = new URL(q.get("redirect_uri"));
    to.searchParams.set("code", code);
    if (q.has("state")) {
      to.searchParams.set("state", q.get("state"));
    }
    send(res, 302, undefined, { location: to.toString() });
  }

  function tokenEndpoint(req, res, form) {
    if (req.headers.authorization?.startsWith("Basic ")) {
      // Garmin wants the client in the body, not in Basic
      oauthError(res, 401, "invalid_client", "client credentials in the body");
      return;
    }
    if (form.client_id !== clientId || form.client_secret !== clientSecret) {
      oauthError(res, 401, "invalid_client", "unknown client");
      return;
    }
    if (form.grant_type === "authorization_code") {
      const c = codes.get(form.code);
      codes.delete(form.code);
      if (c === undefined) {
        oauthError(res, 400, "invalid_grant", "unknown or used code");
        return;
      }
      if (form.redirect_uri !== c.redirectUri) {
        oauthError(res, 400, "invalid_grant", "redirect_uri mismatch");
        return;
      }
      if (
        !form.code_verifier ||
        pkceChallenge(form.code_verifier) !== c.challenge
      ) {
        oauthError(res, 400, "invalid_grant", "code_verifier mismatch");
        return;
      }
      send(res, 200, issueTokens(c.userId));
      return;
    }
    if (form.grant_type === "refresh_token") {
      const userId = refresh.get(form.refresh_token);
      if (userId === undefined || !users.get(userId)?.registered) {
        oauthError(res, 400, "invalid_grant", "refresh token not valid");
        return;
      }
      refresh.delete(form.refresh_token); // it rotates
      send(res, 200, issueTokens(userId));
      return;
    }
    oauthError(res, 400, "unsupported_grant_type", String(form.grant_type));
  }

  function overlaps(list, s, e) {
    return list.some(([a, b]) => s <= b && a <= e);
  }

  function spend(days) {
    const now = Date.now();
    while (budget.length > 0 && budget[0].at < now - 60000) {
      budget.shift();
    }
    const used = budget.reduce((n, b) => n + b.days, 0);
    if (used + days > daysPerMinute) {
      return false;
    }
    budget.push({ at: now, days });
    return true;
  }

  function backfill(res, u, type, q) {
    const t = TYPES[type];
    if (t === undefined || !enabled.has(type)) {
      apiError(res, 400, `Endpoint not enabled for summary type: ${type}`);
      return;
    }
    const s = Number(q.get("summaryStartTimeInSeconds"));
    const e = Number(q.get("summaryEndTimeInSeconds"));
    if (
      !q.has("summaryStartTimeInSeconds") ||
      !q.has("summaryEndTimeInSeconds") ||
      !Number.isInteger(s) ||
      !Number.isInteger(e) ||
      s < 0 ||
      e < s
    ) {
      apiError(res, 400, "summaryStartTimeInSeconds and " +
        "summaryEndTimeInSeconds are required");
      return;
    }
    if (e > 1e11) {
      apiError(res, 400, inMilliseconds(e));
      return;
    }
    if (e - s > t.maxDays * DAY) {
      apiError(res, 400, `the range is longer than ${t.maxDays} days`);
      return;
    }
    if (!u.permissions.includes("HISTORICAL_DATA_EXPORT")) {
      apiError(res, 412, "User has not granted HISTORICAL_DATA_EXPORT");
      return;
    }
    const k = `${u.userId}/${type}`;
    const list = asked.get(k) ?? [];
    if (overlaps(list, s, e)) {
      const iso = (x) => new Date(x * 1000).toISOString().replace(".000", "");
      const id = randomBytes(8).toString("hex");
      const now = Math.floor(Date.now() / 1000);
      apiError(res, 409, `[${id}]duplicate backfill processed at ` +
        `${iso(now)} [${iso(s)} to ${iso(e)}]`);
      return;
    }
    if (!spend(Math.max(1, Math.ceil((e - s) / DAY)))) {
      apiError(res, 429, "rate limit: days of data backfilled per minute", {
        "retry-after": "60",
      });
      return;
    }
    list.push([s, e]);
    asked.set(k, list);
    const items = (fixtures[t.key] ?? []).filter((it) => {
      const at = summaryTime(it);
      return it.userId === u.userId && at !== null && at >= s && at <= e;
    });
    // backfill answers at once; the data comes later, as if newly synced
    if (items.length > 0) {
      schedule(() => deliver(t.key, items));
    }
    send(res, 202);
  }

  function callback(res, u, type, q) {
    const t = TYPES[type];
    const key = t?.key ?? type;
    const p = pulls.get(q.get("token") ?? "");
    const lo = Number(q.get("uploadStartTimeInSeconds"));
    const hi = Number(q.get("uploadEndTimeInSeconds"));
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      apiError(res, 400, "uploadStartTimeInSeconds and " +
        "uploadEndTimeInSeconds are required");
      return;
    }
    if (hi > 1e11) {
      apiError(res, 400, inMilliseconds(hi));
      return;
    }
    if (hi - lo > DAY) {
      apiError(res, 400, "the upload range is longer than 24 hours");
      return;
    }
    if (p === undefined || p.userId !== u.userId || p.key !== key ||
        p.lo !== lo || p.hi !== hi) {
      apiError(res, 401, "unknown or expired pull token");
      return;
    }
    send(res, 200, p.items);
  }

  function user(req, res, path, u) {
    if (req.method === "GET" && path.endsWith("/user/id")) {
      send(res, 200, { userId: u.userId });
    } else if (req.method === "GET" && path.endsWith("/user/permissions")) {
      send(res, 200, u.permissions);
    } else if (req.method === "DELETE" && path.endsWith("/user/registration")) {
      u.registered = false;
      for (const [k, v] of access) {
        if (v.userId === u.userId) {
          access.delete(k);
        }
      }
      schedule(() => deliver("deregistrations", [{ userId: u.userId }]));
      send(res, 204);
    } else {
      apiError(res, 404, "no such user endpoint");
    }
  }

  function route(req, res, body) {
    const url = new URL(req.url, "http://127.0.0.1");
    const q = url.searchParams;
    const path = url.pathname;
    const form = Object.fromEntries(new URLSearchParams(body));
    requests.push({
      at: Date.now(),
      method: req.method,
      path,
      query: Object.fromEntries(q),
      headers: { ...req.headers },
      body,
      form,
      status: 0,
    });
    const log = requests[requests.length - 1];
    res.on("finish", () => {
      log.status = res.statusCode;
    });

    if (req.method === "GET" && path === "/oauth2Confirm") {
      authorize(req, res, q);
      return;
    }
    if (req.method === "POST" && path === "/di-oauth2-service/oauth/token") {
      tokenEndpoint(req, res, form);
      return;
    }
    if (failure !== null) {
      const f = failure;
      failure = null;
      const headers = f.status === 429 ? { "retry-after": "1" } : {};
      const body = f.body ?? { errorMessage: `failing with ${f.status}` };
      send(res, f.status, body, headers);
      return;
    }
    const u = bearer(req);
    if (u === null) {
      apiError(res, 401, "The user access token is unknown or expired");
      return;
    }
    const m = /^\/(wellness-api|partner-gateway)\/rest\/(.+)$/.exec(path);
    if (m === null) {
      apiError(res, 404, "not found");
      return;
    }
    const rest = m[2];
    if (rest.startsWith("user/")) {
      user(req, res, path, u);
    } else if (req.method === "GET" && rest.startsWith("backfill/")) {
      backfill(res, u, rest.slice("backfill/".length), q);
    } else if (req.method === "GET" && !rest.includes("/")) {
      callback(res, u, rest, q);
    } else {
      apiError(res, 404, "not found");
    }
  }

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
      route(req, res, Buffer.concat(chunks).toString("utf8"));
    });
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
  const base = `http://127.0.0.1:${server.address().port}`;

  function schedule(fn) {
    const p = new Promise((resolveLater) => {
      setTimeout(() => {
        Promise.resolve()
          .then(fn)
          .catch(() => {})
          .finally(resolveLater);
      }, deliveryDelayMs);
    });
    pending.add(p);
    p.finally(() => pending.delete(p));
  }

  // POST `body` to `url` with Garmin's headers (Health API 4.2).
  async function push(url, body, opts = {}) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const headers = {
      "content-type": "application/json;charset=UTF-8",
      "user-agent": "Garmin Health API",
      accept: "text/plain, application/json, application/*+json, */*",
      "garmin-client-id": opts.clientId ?? clientId,
      ...(opts.headers ?? {}),
    };
    if (headers["garmin-client-id"] === null) {
      delete headers["garmin-client-id"];
    }
    const res = await fetch(url, { method: "POST", headers, body: text });
    const reply = await res.text();
    const answer = { url, body: text, status: res.status, reply };
    pushes.push(answer);
    return answer;
  }

  // Push `items` of the push key `key` in `mode`: inline ("push"), or
  // as one callbackURL per user with a pull token ("ping").
  async function pushSummaries(url, key, items, opts = {}) {
    const mode = opts.mode ?? state.mode;
    if (!PUSH_KEYS.has(key) && key !== "deregistrations" &&
        key !== "userPermissionsChange") {
      throw new Error(`mock_garmin: unknown summary type ${key}`);
    }
    if (mode === "push" || key === "deregistrations" ||
        key === "userPermissionsChange") {
      return push(url, { [key]: items }, opts);
    }
    const byUser = new Map();
    for (const it of items) {
      byUser.set(it.userId, [...(byUser.get(it.userId) ?? []), it]);
    }
    const path =
      Object.entries(TYPES).find(([, t]) => t.key === key)?.[0] ?? key;
    const hi = Math.floor(Date.now() / 1000);
    const lo = hi - 3;
    const pings = [];
    for (const [userId, list] of byUser) {
      const pull = token("pt-");
      pulls.set(pull, { userId, key, items: list, lo, hi });
      pings.push({
        userId,
        callbackURL:
          `${base}/wellness-api/rest/${path}` +
          `?uploadStartTimeInSeconds=${lo}&uploadEndTimeInSeconds=${hi}` +
          `&token=${pull}`,
      });
    }
    return push(url, { [key]: pings }, opts);
  }

  async function deliver(key, items) {
    if (state.hookUrl !== null) {
      await pushSummaries(state.hookUrl, key, items);
    }
  }

  async function stop() {
    await Promise.allSettled([...pending]);
    await new Promise((resolveClose) => {
      server.close(() => resolveClose());
      for (const s of sockets) {
        s.destroy();
      }
    });
  }

  return {
    url: base,
    authorizeUrl: `${base}/oauth2Confirm`,
    tokenUrl: `${base}/di-oauth2-service/oauth/token`,
    userIdUrl: `${base}/wellness-api/rest/user/id`,
    clientId,
    clientSecret,
    users,
    requests,
    pushes,
    hits: (path) => requests.filter((r) => r.path === path),
    get hookUrl() {
      return state.hookUrl;
    },
    set hookUrl(v) {
      state.hookUrl = v;
    },
    get mode() {
      return state.mode;
    },
    set mode(v) {
      state.mode = v;
    },
    setFixtures(map) {
      for (const [key, items] of Object.entries(map)) {
        fixtures[key] = [...(fixtures[key] ?? []), ...items];
      }
    },
    issueTokens,
    expireTokens() {
      for (const t of access.values()) {
        t.expiresAt = 0;
      }
    },
    failNext(status, body) {
      failure = { status, body };
    },
    push,
    pushSummaries,
    deregister: (url, userId) =>
      pushSummaries(url, "deregistrations", [{ userId }]),
    changePermissions: (url, userId, permissions) =>
      pushSummaries(url, "userPermissionsChange", [
        {
          userId,
          summaryId: `x${randomBytes(4).toString("hex")}`,
          permissions,
          changeTimeInSeconds: Math.floor(Date.now() / 1000),
        },
      ]),
    idle: () => Promise.allSettled([...pending]),
    stop,
  };
}
