// mock_withings.mjs - a local Withings Health Data API, quirks included,
// for ferry's WITHINGS adapter and the pipeline behind it.
//
//   import { startWithings } from "./lib/mock_withings.mjs";
//   const w = await startWithings();       // 127.0.0.1, port 0
//   ... [provider WITHINGS] authorize_url = w.url + "/oauth2_user/authorize2",
//       token_url = w.url + "/v2/oauth2", api_url = w.url ...
//   w.failNext(601, { wait_seconds: 5 });  // the next data call is limited
//   await w.push(`${ferry.baseUrl}/hooks/withings/${token}`,
//                { userid: w.userid, appli: 1, startdate, enddate });
//   after(() => w.stop());
//
// What it does, as Withings documents it:
// - Every answer is HTTP 200 with {"status":N,"body":{...}}; N is 0 for
//   success, 401 for a bad or expired access token, 503 for a bad code or
//   refresh token at the token endpoint, 601 (with body.wait_seconds)
//   for too many requests, 2554 for an unknown action.
// - Parameters come as a form body (or query string) with `action`.
// - The token endpoint (POST /v2/oauth2) wants action=requesttoken, the
//   client id and secret in the body, and answers userid, access_token,
//   refresh_token (rotated on every refresh), scope, expires_in 10800,
//   token_type Bearer. The refresh token it replaced stays valid until
//   the new access token is first used, or 8 hours.
// - GET /oauth2_user/authorize2 consents at once: it redirects to
//   redirect_uri with a code valid 30 seconds, once, and the state.
// - Data: POST /measure action=getmeas, /v2/measure action=getactivity |
//   getworkouts, /v2/sleep action=getsummary, serving the fixtures of
//   tests/fixtures/withings filtered to the asked window and paged by
//   `pageSize` rows (an option, 50 by default) with `more`/`offset`
//   (`more` 0/1 for getmeas, a boolean in v2 answers).
// - POST /notify action=subscribe | revoke | list | get keeps per-user
//   subscriptions (callbackurl, appli, comment). Like Withings it probes
//   a new callback URL with HEAD first and refuses it (status 293) unless
//   that answers 2xx; revoking nothing is status 294.
// - push(url, fields) POSTs a notification exactly as Withings sends one:
//   application/x-www-form-urlencoded, no signature, no extra header.
//   notify(userid, appli, fields) sends it to every subscribed callback.
//
// API of the returned object:
//   url, userid, clientId, clientSecret
//   requests                 every request: { at, method, path, query,
//                            headers, form, action }
//   setFixtures({ getmeas, getactivity, getworkouts, getsummary })
//                            replace answers (full {"status":0,...}
//                            objects); the list inside is filtered/paged
//   failNext(status, { http, wait_seconds, error, count, action })
//                            the next `count` (1) data calls (of `action`
//                            only, if given) answer Withings status
//                            `status` at HTTP 200, or HTTP `status` with
//                            `http: true`
//   limitPerMinute(n)        answer 601 past n data calls a minute (0 off)
//   issueCode(userid)        an authorization code, as after a consent
//   expireAccessTokens()     every access token issued so far now fails
//   subscriptions            [{ userid, callbackurl, appli, comment }]
//   push(url, fields)        -> { status, body }
//   notify(userid, appli, fields) -> [{ url, status }]
//   stop()

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MAX_BODY = 64 * 1024;
const CODE_LIFE_MS = 30 * 1000;
const ACCESS_LIFE_S = 10800;
const OLD_REFRESH_MS = 8 * 3600 * 1000;
const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "fixtures",
  "withings",
);

const SERVICES = {
  "/measure": ["getmeas"],
  "/v2/measure": ["getactivity", "getworkouts", "getintradayactivity"],
  "/v2/sleep": ["getsummary", "get"],
};

// The list inside each answer and the field that dates its rows.
const LISTS = {
  getmeas: { list: "measuregrps", when: "date", ymd: false, intMore: true },
  getactivity: { list: "activities", when: "date", ymd: true },
  getworkouts: { list: "series", when: "startdate", ymd: true },
  getsummary: { list: "series", when: "enddate", ymd: true },
};

function loadFixtures() {
  const out = {};
  for (const action of Object.keys(LISTS)) {
    out[action] = JSON.parse(
      readFileSync(join(FIXTURES, `${action}.json`), "utf8"),
    );
  }
  return out;
}

function token() {
  return randomBytes(20).toString("hex");
}

function wrap(status, body = {}, error) {
  const o = { status, body };
  if (error !== undefined) {
    o.error = error;
  }
  return o;
}

function ymdOf(epoch) {
  return new Date(epoch * 1000).toISOString().slice(0, 10);
}

// Rows of `answer` that fall in the window `p` asks for.
function inWindow(action, row, p) {
  const spec = LISTS[action];
  if (p.lastupdate !== undefined) {
    const m = row.modified ?? row[spec.when];
    return Number(m) >= Number(p.lastupdate);
  }
  if (spec.ymd) {
    if (p.startdateymd === undefined || p.enddateymd === undefined) {
      return true;
    }
    const v = row[spec.when];
    const d = typeof v === "string" ? v : ymdOf(Number(v));
    // a night or workout near midnight may belong to either day
    return d >= p.startdateymd && d <= p.enddateymd;
  }
  if (p.startdate === undefined || p.enddate === undefined) {
    return true;
  }
  const t = Number(row[spec.when]);
  return t >= Number(p.startdate) && t <= Number(p.enddate);
}

export async function startWithings(options = {}) {
  const clientId = options.clientId ?? "withings-client";
  const clientSecret = options.clientSecret ?? randomBytes(16).toString("hex");
  const userid = String(options.userid ?? "38291736");
  const scope = options.scope ?? "user.info,user.metrics,user.activity";
  const pageSize = options.pageSize ?? 50;
  const probeCallbacks = options.probeCallbacks ?? true;
  const requests = [];
  const subscriptions = [];
  const codes = new Map(); // code -> { userid, redirect_uri, expires }
  const access = new Map(); // token -> { userid, expires, refresh }
  const refresh = new Map(); // token -> { userid, until, successor }
  const failures = [];
  let fixtures = options.fixtures ?? loadFixtures();
  let perMinute = options.limitPerMinute ?? 0;
  let window = [];

  function issueCode(uid = userid, redirectUri = "") {
    const code = token();
    codes.set(code, {
      userid: String(uid),
      redirect_uri: redirectUri,
      expires: Date.now() + CODE_LIFE_MS,
    });
    return code;
  }

  function issuePair(uid) {
    const a = token();
    const r = token();
    access.set(a, {
      userid: uid,
      expires: Date.now() + ACCESS_LIFE_S * 1000,
      refresh: r,
    });
    refresh.set(r, { userid: uid, until: Infinity, successor: null });
    return {
      userid: uid,
      access_token: a,
      refresh_token: r,
      scope,
      expires_in: ACCESS_LIFE_S,
      token_type: "Bearer",
      csrf_token: randomBytes(16).toString("base64url"),
    };
  }

  function tokenCall(p) {
    if (p.action !== "requesttoken") {
      return wrap(2554, {}, "Not implemented: action must be requesttoken");
    }
    if (p.client_id !== clientId || p.client_secret !== clientSecret) {
      return wrap(503, {}, "Invalid Params: invalid client_id or secret");
    }
    if (p.grant_type === "authorization_code") {
      const c = codes.get(p.code);
      codes.delete(p.code);
      if (c === undefined || c.expires < Date.now()) {
        return wrap(503, {}, "Invalid Params: invalid code");
      }
      if (c.redirect_uri !== "" && c.redirect_uri !== p.redirect_uri) {
        return wrap(503, {}, "Invalid Params: redirect_uri mismatch");
      }
      return wrap(0, issuePair(c.userid));
    }
    if (p.grant_type === "refresh_token") {
      const r = refresh.get(p.refresh_token);
      if (r === undefined || r.until < Date.now()) {
        return wrap(503, {}, "Invalid Params: invalid refresh_token");
      }
      const pair = issuePair(r.userid);
      // the old one lives on until the new access token is used
      r.until = Date.now() + OLD_REFRESH_MS;
      r.successor = pair.access_token;
      return wrap(0, pair);
    }
    return wrap(503, {}, "Invalid Params: grant_type");
  }

  // The user of a bearer token, or null.
  function bearer(headers) {
    const m = /^Bearer (\S+)$/.exec(headers.authorization ?? "");
    const a = m === null ? undefined : access.get(m[1]);
    if (a === undefined || a.expires < Date.now()) {
      return null;
    }
    // first use of a token from a refresh retires the refresh before it
    for (const [k, r] of refresh) {
      if (r.successor === m[1]) {
        refresh.delete(k);
      }
    }
    return a.userid;
  }

  function takeFailure(action) {
    const i = failures.findIndex(
      (f) => f.action === undefined || f.action === action,
    );
    if (i < 0) {
      return null;
    }
    const f = failures[i];
    f.count -= 1;
    if (f.count <= 0) {
      failures.splice(i, 1);
    }
    return f.answer;
  }

  function limited() {
    if (perMinute <= 0) {
      return false;
    }
    const now = Date.now();
    window = window.filter((t) => now - t < 60000);
    if (window.length >= perMinute) {
      return true;
    }
    window.push(now);
    return false;
  }

  function dataCall(action, p) {
    const fixture = fixtures[action];
    const spec = LISTS[action];
    if (fixture === undefined || spec === undefined) {
      // intraday and raw sleep: no fixture, an empty series
      return wrap(0, { series: action === "get" ? [] : {} });
    }
    const rows = (fixture.body?.[spec.list] ?? []).filter((row) =>
      inWindow(action, row, p),
    );
    const offset = Number(p.offset ?? 0);
    const page = rows.slice(offset, offset + pageSize);
    const more = offset + pageSize < rows.length;
    const body = { ...fixture.body, [spec.list]: page };
    body.more = spec.intMore ? (more ? 1 : 0) : more;
    body.offset = more ? offset + pageSize : 0;
    return { ...fixture, body };
  }

  async function probe(url) {
    try {
      const r = await send(url, "HEAD", null);
      return r.status >= 200 && r.status < 300;
    } catch {
      return false;
    }
  }

  async function notifyCall(uid, p) {
    const appli = Number(p.appli ?? 1);
    const mine = (s) =>
      s.userid === uid && s.callbackurl === p.callbackurl && s.appli === appli;
    switch (p.action) {
      case "subscribe":
        if (!p.callbackurl || !p.appli) {
          return wrap(293, {}, "Invalid Params: callbackurl or appli");
        }
        if (probeCallbacks && !(await probe(p.callbackurl))) {
          return wrap(293, {}, "The callback URL is absent or incorrect");
        }
        if (!subscriptions.some(mine)) {
          subscriptions.push({
            userid: uid,
            callbackurl: p.callbackurl,
            appli,
            comment: p.comment ?? "",
          });
        }
        return wrap(0, {});
      case "revoke": {
        const i = subscriptions.findIndex(mine);
        if (i < 0) {
          return wrap(294, {}, "No such subscription could be deleted");
        }
        subscriptions.splice(i, 1);
        return wrap(0, {});
      }
      case "list":
        return wrap(0, {
          profiles: subscriptions
            .filter((s) => s.userid === uid)
            .map((s) => ({
              appli: s.appli,
              callbackurl: s.callbackurl,
              comment: s.comment,
              expires: 2147483647,
            })),
        });
      case "get": {
        const s = subscriptions.find(mine);
        return s === undefined
          ? wrap(343, {}, "No such subscription")
          : wrap(0, {
              appli: s.appli,
              callbackurl: s.callbackurl,
              comment: s.comment,
            });
      }
      default:
        return wrap(2554, {}, "Not implemented");
    }
  }

  async function answer(req, path, p) {
    if (path === "/v2/oauth2") {
      return tokenCall(p);
    }
    const uid = bearer(req.headers);
    if (path === "/notify") {
      if (uid === null) {
        return wrap(401, {}, "invalid_token: The access token is invalid");
      }
      return notifyCall(uid, p);
    }
    const actions = SERVICES[path];
    if (actions === undefined || !actions.includes(p.action)) {
      return wrap(2554, {}, "Not implemented: wrong action or service");
    }
    const f = takeFailure(p.action);
    if (f !== null) {
      return f;
    }
    if (uid === null) {
      return wrap(
        401,
        {},
        "XRequestID: Not provided invalid_token: The access token provided " +
          "is invalid",
      );
    }
    if (limited()) {
      return wrap(601, { wait_seconds: 60 }, "Too many requests");
    }
    return dataCall(p.action, p);
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
    req.on("end", async () => {
      const u = new URL(req.url, "http://127.0.0.1");
      const raw = Buffer.concat(chunks).toString("utf8");
      const form = Object.fromEntries(new URLSearchParams(raw));
      const p = { ...Object.fromEntries(u.searchParams), ...form };
      const hit = {
        at: Date.now(),
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: { ...req.headers },
        form,
        action: p.action,
      };
      requests.push(hit);

      if (req.method === "GET" && u.pathname === "/oauth2_user/authorize2") {
        const redirect = u.searchParams.get("redirect_uri");
        if (u.searchParams.get("client_id") !== clientId || !redirect) {
          res.writeHead(400, { "content-type": "text/plain" });
          res.end("invalid client_id or redirect_uri");
          return;
        }
        const to = new URL(redirect);
        to.searchParams.set("code", issueCode(userid, redirect));
        if (u.searchParams.has("state")) {
          to.searchParams.set("state", u.searchParams.get("state"));
        }
        res.writeHead(302, { location: to.toString() });
        res.end();
        return;
      }
      const a = await answer(req, u.pathname, p);
      if (a.httpStatus !== undefined) {
        res.writeHead(a.httpStatus, { "content-type": "text/html" });
        res.end("<html><body>Service unavailable</body></html>");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(a));
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  // POST `fields` as a form to `target` (or HEAD with no body).
  function send(target, method, fields) {
    const u = new URL(target);
    if (u.hostname !== "127.0.0.1" && u.hostname !== "localhost") {
      return Promise.reject(new Error(`push only to loopback, not ${target}`));
    }
    const body =
      fields === null ? "" : new URLSearchParams(fields).toString();
    const lib = u.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = lib(
        u,
        {
          method,
          headers:
            fields === null
              ? {}
              : {
                  "content-type": "application/x-www-form-urlencoded",
                  "content-length": Buffer.byteLength(body),
                },
          timeout: 10000,
        },
        (res) => {
          const parts = [];
          res.on("data", (c) => parts.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode,
              body: Buffer.concat(parts).toString("utf8"),
            }),
          );
        },
      );
      r.on("timeout", () => r.destroy(new Error("push timed out")));
      r.on("error", reject);
      r.end(body);
    });
  }

  return {
    url,
    userid,
    clientId,
    clientSecret,
    requests,
    subscriptions,
    setFixtures(f) {
      fixtures = { ...fixtures, ...f };
    },
    failNext(status, opts = {}) {
      failures.push({
        count: opts.count ?? 1,
        action: opts.action,
        answer: opts.http
          ? { httpStatus: status }
          : wrap(
              status,
              status === 601 ? { wait_seconds: opts.wait_seconds ?? 60 } : {},
              opts.error ?? `status ${status}`,
            ),
      });
    },
    limitPerMinute(n) {
      perMinute = n;
      window = [];
    },
    issueCode,
    expireAccessTokens() {
      for (const a of access.values()) {
        a.expires = 0;
      }
    },
    push(target, fields) {
      return send(target, "POST", fields);
    },
    async notify(uid, appli, fields = {}) {
      const out = [];
      for (const s of subscriptions) {
        if (s.userid === String(uid) && s.appli === Number(appli)) {
          const r = await send(s.callbackurl, "POST", {
            userid: String(uid),
            appli: String(appli),
            ...fields,
          });
          out.push({ url: s.callbackurl, status: r.status });
        }
      }
      return out;
    },
    stop() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
