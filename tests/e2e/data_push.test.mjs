// data_push.test.mjs - provider pushes end to end. One ferry with OURA,
// GARMIN and WITHINGS pointed at their local mocks; one user connected
// to each without a browser (the start link, the mock's consent, the
// callback). Each mock then pushes as its provider does (Oura a signed
// notice, Garmin the summaries with garmin-client-id, Withings a notify
// form to the path-token URL) and the developer's webhook receives the
// data in Terra's shapes, signed; an unchanged document sent again makes
// no event; a Garmin ping's callback is fetched only under Garmin's API.
// Pushes that are not authentic are refused with 401 and queue nothing.
// An expired access token is refreshed, through two failed refreshes and
// the job's retries; a refresh answered invalid_grant ends the
// connection with exactly one connection_error, whatever comes after.
// Oura's verification handshake answers the challenge.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import {
  childEnv,
  createDeveloper,
  ferryBin,
  ISO_US_RE,
  request,
  sanitizerReport,
  stopAll,
} from "./lib/ferry.mjs";
import { fixture, start as startGarmin } from "./lib/mock_garmin.mjs";
import { start as startOura } from "./lib/mock_oura.mjs";
import { startWithings } from "./lib/mock_withings.mjs";
import {
  addWebhook,
  makeStore,
  sql,
  startFerryOn,
  startReceiver,
  until,
} from "./lib/receiver.mjs";

const T = { timeout: 60000 };
const VERSION = "2022-03-16";
// where ferry sends the user after a login; never fetched
const SUCCESS_URL = "https://app.example.com/connected";
const FAILURE_URL = "https://app.example.com/failed";
// the Garmin user of the fixtures (Berlin)
const GARMIN_USER = "7f3c1a9e5b2d4c6f8a0e1b3d5f7a9c2e";
// Oura's fixture documents the pushes name (sleeps 3 and 4 are of types
// Terra has no sleep for: deleted, rest)
const SLEEP = (n) => `b1c2d3e4-000${n}-4a5b-8c6d-7e8f90a1b2c3`;
const WORKOUT = [
  "7f3c1a2e-3b4d-4e5f-8a6b-1c2d3e4f5a6b",
  "0b8e2d4f-6a7b-4c8d-9e0f-a1b2c3d4e5f6",
  "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f",
  "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b",
];
// a window around the Withings fixtures (2024-03-30 .. 2024-04-03)
const WITHINGS_FROM = 1711670400;
const WITHINGS_TO = 1712188800;
// how long "nothing else arrives" is watched for
const QUIET_MS = 2000;

let store;
let ferry;
let rx;
let oura;
let garmin;
let withings;
let dev;
let ouraWebhookSecret;
const users = {}; // resource -> ferry user id

/* ---- helpers ---- */

// The master key in `keyFile`: 32 raw bytes or 64 hex digits.
function masterKey(keyFile) {
  const raw = readFileSync(keyFile);
  const text = raw.toString("latin1").replace(/[\r\n]+$/, "");
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    return Buffer.from(text, "hex");
  }
  assert.equal(raw.length, 32, "key_file: 32 raw bytes or 64 hex digits");
  return raw;
}

// The path token of `resource`'s pushes to the ferry of `keyFile`.
function hookToken(resource, keyFile = store.key) {
  return createHmac("sha256", masterKey(keyFile))
    .update(`ferry hook ${resource.toUpperCase()}`)
    .digest("hex")
    .slice(0, 32);
}

function hookUrl(section) {
  return `${ferry.baseUrl}/hooks/${section}/${hookToken(section)}`;
}

// The verification token ferry gives Oura with its subscriptions.
function ouraVerificationToken(secret) {
  return createHmac("sha256", secret)
    .update("ferry oura webhook verification")
    .digest("hex");
}

function apiHeaders() {
  return { "dev-id": dev.dev_id, "x-api-key": dev.api_key };
}

/*
 * Connect a user of `resource` as a browser would, without one: the
 * start link, the provider's authorize (the mock consents at once), the
 * callback, up to ferry's redirect to the success URL. The user id.
 */
async function connect(resource, referenceId) {
  const auth = await request(
    `${ferry.baseUrl}/v2/auth/authenticateUser?resource=${resource}`,
    {
      method: "POST",
      headers: { ...apiHeaders(), "content-type": "application/json" },
      body: JSON.stringify({
        reference_id: referenceId,
        auth_success_redirect_url: SUCCESS_URL,
        auth_failure_redirect_url: FAILURE_URL,
      }),
    },
  );
  assert.equal(auth.status, 200, `authenticateUser: ${auth.text}`);
  const { user_id: userId, auth_url: authUrl } = JSON.parse(auth.text);
  let url = authUrl;
  const hops = [];
  for (let i = 0; i < 8; i++) {
    const r = await request(url);
    hops.push(`${r.status} ${url}`);
    const loc = r.headers.get("location");
    assert.ok(r.status >= 300 && r.status < 400 && loc,
      `${resource} login stopped: ${r.status} ${r.text.slice(0, 300)}\n` +
        hops.join("\n"));
    const next = new URL(loc, url);
    assert.ok(!next.href.startsWith(FAILURE_URL),
      `${resource} login failed: ${next.href}\n${hops.join("\n")}`);
    if (next.href.startsWith(SUCCESS_URL)) {
      assert.equal(next.searchParams.get("user_id"), userId);
      assert.equal(next.searchParams.get("resource"), resource);
      return userId;
    }
    url = next.href;
  }
  throw new Error(`${resource} login: too many redirects\n${hops.join("\n")}`);
}

// The first request of every event of `type` (for `userId`, if given),
// of those that arrived after the first `since`.
function received(type, userId, since = 0) {
  return rx
    .firsts()
    .slice(since)
    .filter(
      (r) =>
        r.json?.type === type &&
        (userId === undefined || r.json.user?.user_id === userId),
    );
}

// The objects the data events of `type` for `userId` carried.
function objects(type, userId, since = 0) {
  return received(type, userId, since).flatMap((r) => r.json.data ?? []);
}

function summaryIds(type, userId, since = 0) {
  return objects(type, userId, since).map((o) => o.metadata?.summary_id);
}

// The jobs of the store, as rows.
function jobs(where = "1") {
  return sql(
    store.db,
    "SELECT id, kind, state, attempts, payload, last_error FROM jobs" +
      ` WHERE ${where} ORDER BY created_at;`,
    { json: true },
  );
}

async function pushJobCount() {
  return (await jobs("kind = 'push'")).length;
}

async function eventCount() {
  const rows = await sql(store.db, "SELECT count(*) AS n FROM events;", {
    json: true,
  });
  return rows[0].n;
}

// Wait until no job of `kinds` is pending or running.
async function jobsSettle(kinds, timeoutMs, what) {
  const list = kinds.map((k) => `'${k}'`).join(", ");
  await until(
    async () =>
      (await jobs(`kind IN (${list}) AND state IN ('pending', 'running')`))
        .length === 0,
    timeoutMs,
    what,
    async () => JSON.stringify(await jobs(`kind IN (${list})`), null, 1),
  );
}

async function userState(userId) {
  const rows = await sql(
    store.db,
    `SELECT state FROM users WHERE id = '${userId}';`,
    { json: true },
  );
  return rows[0]?.state;
}

// What a Terra data event for `userId` of `resource` must be.
function assertDataEvent(r, type, userId, resource) {
  const what = `${resource} ${type} event ${r.eventId}`;
  assert.ok(r.verified, `${what}: the signature verifies`);
  assert.equal(r.json.type, type, what);
  assert.equal(r.json.version, VERSION, what);
  assert.equal(r.json.user?.user_id, userId, what);
  assert.equal(r.json.user?.provider, resource, what);
  assert.ok(Array.isArray(r.json.data), `${what}: data is an array`);
  assert.ok(r.json.data.length >= 1 && r.json.data.length <= 10,
    `${what}: 1 to 10 objects, not ${r.json.data.length}`);
  for (const o of r.json.data) {
    const md = o.metadata;
    assert.equal(typeof md, "object", `${what}: metadata`);
    assert.match(md.start_time, ISO_US_RE, `${what}: start_time`);
    assert.match(md.end_time, ISO_US_RE, `${what}: end_time`);
    assert.ok(Date.parse(md.start_time) <= Date.parse(md.end_time),
      `${what}: start_time is not after end_time`);
    if (type === "sleep") {
      assert.equal(typeof md.summary_id, "string", `${what}: summary_id`);
      assert.equal(typeof md.upload_type, "number", `${what}: upload_type`);
      assert.equal(typeof o.sleep_durations_data, "object",
        `${what}: sleep_durations_data`);
    } else if (type === "activity") {
      assert.equal(typeof md.summary_id, "string", `${what}: summary_id`);
      assert.equal(typeof md.type, "number", `${what}: metadata.type`);
      assert.equal(typeof md.upload_type, "number", `${what}: upload_type`);
    } else if (type === "daily") {
      assert.equal(typeof o.distance_data, "object", `${what}: distance_data`);
    }
  }
}

function describeRx() {
  return rx
    .firsts()
    .map(
      (r) =>
        `  ${r.json?.type} user=${r.json?.user?.provider}` +
        ` ids=${(r.json?.data ?? []).map((o) => o.metadata?.summary_id)}`,
    )
    .join("\n");
}

/* ---- the tests ---- */

describe("provider pushes reach the webhook", () => {
  before(async () => {
    store = makeStore();
    rx = await startReceiver();
    oura = await startOura();
    // a production key's backfill budget: the 28 days of every type
    // of a connection are asked at once
    garmin = await startGarmin({ users: [{ userId: GARMIN_USER }],
      daysPerMinute: 10000 });
    withings = await startWithings();
    ouraWebhookSecret = randomBytes(16).toString("hex");
    const providers = [
      "[provider oura]",
      `client_id = ${oura.clientId}`,
      `client_secret = ${oura.clientSecret}`,
      `webhook_secret = ${ouraWebhookSecret}`,
      `authorize_url = ${oura.url}/oauth/authorize`,
      `token_url = ${oura.url}/oauth/token`,
      `revoke_url = ${oura.url}/oauth/revoke`,
      `userinfo_url = ${oura.url}/v2/usercollection/personal_info`,
      `api_url = ${oura.url}`,
      "",
      "[provider garmin]",
      `client_id = ${garmin.clientId}`,
      `client_secret = ${garmin.clientSecret}`,
      `authorize_url = ${garmin.authorizeUrl}`,
      `token_url = ${garmin.tokenUrl}`,
      `userinfo_url = ${garmin.userIdUrl}`,
      `api_url = ${garmin.url}`,
      "",
      "[provider withings]",
      `client_id = ${withings.clientId}`,
      `client_secret = ${withings.clientSecret}`,
      `authorize_url = ${withings.url}/oauth2_user/authorize2`,
      `token_url = ${withings.url}/v2/oauth2`,
      `api_url = ${withings.url}`,
      "",
    ].join("\n");
    ferry = await startFerryOn(store, { allowPrivate: true, extra: providers });
    dev = await createDeveloper(ferry, "push-e2e");
    const dest = await addWebhook(ferry, dev.dev_id, rx.url);
    rx.secrets.push(dest.secret);
    garmin.hookUrl = hookUrl("garmin");

    users.OURA = await connect("OURA", "ring-1");
    users.GARMIN = await connect("GARMIN", "watch-1");
    users.WITHINGS = await connect("WITHINGS", "scale-1");
    for (const [resource, id] of Object.entries(users)) {
      await rx.waitFor(() => received("auth", id).length === 1, 20000,
        `the auth event of ${resource}`);
    }
    // what the connections start (subscriptions, the history) is done
    // before any push, so the events after are the pushes' own
    await jobsSettle(["connected", "backfill"], 60000,
      "the end of the after-connect and backfill jobs");
    await garmin.idle();
  });

  after(async () => {
    await stopAll(
      () => ferry?.stop(),
      () => rx?.stop(),
      () => oura?.stop(),
      () => garmin?.stop(),
      () => withings?.stop(),
    );
    store?.remove();
  });

  test("OURA: a signed notice brings the sleep and the workout it names",
    T, async () => {
      const hook = hookUrl("oura");
      const n0 = rx.firsts().length;
      let r = await oura.push(hook, { data_type: "sleep",
        object_id: SLEEP(1) });
      assert.equal(r.status, 200, `sleep notice: ${r.body}`);
      r = await oura.push(hook, { data_type: "workout",
        object_id: WORKOUT[0] });
      assert.equal(r.status, 200, `workout notice: ${r.body}`);

      await rx.waitFor(
        () => summaryIds("sleep", users.OURA, n0).includes(SLEEP(1)), 20000,
        "the pushed Oura sleep");
      await rx.waitFor(
        () => summaryIds("activity", users.OURA, n0).includes(WORKOUT[0]),
        20000,
        "the pushed Oura workout");
      // fetched as the notice said: the one document each
      assert.ok(oura.hits(`/v2/usercollection/sleep/${SLEEP(1)}`).length >= 1,
        "ferry fetched the sleep document");
      assert.ok(
        oura.hits(`/v2/usercollection/workout/${WORKOUT[0]}`).length >= 1,
        "ferry fetched the workout document");
      for (const type of ["sleep", "activity"]) {
        for (const ev of received(type, users.OURA)) {
          assertDataEvent(ev, type, users.OURA, "OURA");
        }
      }

      // the same notice again: the document is fetched, unchanged, and
      // makes no event
      const n1 = rx.firsts().length;
      const fetched = oura.hits(`/v2/usercollection/sleep/${SLEEP(1)}`).length;
      r = await oura.push(hook, { data_type: "sleep", object_id: SLEEP(1),
        event_type: "update" });
      assert.equal(r.status, 200, `update notice: ${r.body}`);
      await until(
        () => oura.hits(`/v2/usercollection/sleep/${SLEEP(1)}`).length >
          fetched, 20000, "the fetch of the updated sleep");
      await jobsSettle(["push"], 20000, "the update notice's job");
      await new Promise((res) => setTimeout(res, QUIET_MS));
      assert.deepEqual(rx.firsts().slice(n1).map((x) => x.json?.type), [],
        "an unchanged document makes no event");
    });

  test("GARMIN: pushed sleeps and dailies arrive as sleep and daily", T,
    async () => {
      const hook = hookUrl("garmin");
      const n0 = rx.firsts().length;
      let r = await garmin.push(hook, fixture("push_sleeps.json"));
      assert.equal(r.status, 200, `sleeps push: ${r.reply}`);
      r = await garmin.push(hook, fixture("push_dailies.json"));
      assert.equal(r.status, 200, `dailies push: ${r.reply}`);

      const sleeps = fixture("push_sleeps.json").sleeps.filter(
        (s) => s.userId === GARMIN_USER);
      await rx.waitFor(
        () => sleeps.every((s) =>
          summaryIds("sleep", users.GARMIN, n0).includes(s.summaryId)),
        20000, "the pushed Garmin sleeps");
      await rx.waitFor(() => objects("daily", users.GARMIN, n0).length >= 1,
        20000, "a Garmin daily");
      for (const type of ["sleep", "daily"]) {
        for (const ev of received(type, users.GARMIN)) {
          assertDataEvent(ev, type, users.GARMIN, "GARMIN");
        }
      }
      // the other fixture user is not connected here: nothing of theirs
      const theirs = fixture("push_sleeps.json").sleeps
        .filter((s) => s.userId !== GARMIN_USER)
        .map((s) => s.summaryId);
      for (const id of summaryIds("sleep")) {
        assert.ok(!theirs.includes(id), `no sleep of another user (${id})`);
      }
    });

  test("GARMIN: a summary that cannot be read is left out, not its user's " +
    "others", T, async () => {
    const hook = hookUrl("garmin");
    const n0 = rx.firsts().length;
    const good = fixture("push_sleeps.json").sleeps.find(
      (s) => s.userId === GARMIN_USER);
    const bad = { ...good, summaryId: "bad-one", startTimeInSeconds: "abc" };
    const ok = { ...good, summaryId: `${good.summaryId}-again`,
      startTimeInSeconds: good.startTimeInSeconds + 86400 };
    const r = await garmin.push(hook, { sleeps: [bad, ok] });
    assert.equal(r.status, 200, `push: ${r.reply}`);
    await rx.waitFor(
      () => summaryIds("sleep", users.GARMIN, n0).includes(ok.summaryId),
      20000, "the readable sleep of the same user");
    assert.ok(!summaryIds("sleep").includes("bad-one"),
      "the unreadable one is not sent");
    await jobsSettle(["push"], 20000, "the push job");
    assert.equal(
      (await jobs("kind = 'push' AND state = 'dead' AND payload LIKE " +
        "'%bad-one%'")).length, 0, "the push job is not dead");
  });

  test("GARMIN: a push over 1 MiB is taken; an API body that size is not",
    T, async () => {
      // Thirty days with a heart rate every 15 s, as Garmin sends
      // dailies: about 2 MB, over [server] max_body_bytes (1 MiB) but
      // within hook_max_body_bytes.
      const base = fixture("push_dailies.json").dailies.find(
        (d) => d.userId === GARMIN_USER);
      const day0 = Date.UTC(2024, 0, 1) / 1000;
      const dailies = [];
      for (let i = 0; i < 30; i++) {
        const start = day0 + i * 86400 - base.startTimeOffsetInSeconds;
        const hr = {};
        for (let t = 0; t < 86400; t += 15) {
          hr[String(t)] = 50 + ((t / 15 + i) % 60);
        }
        dailies.push({
          ...base,
          summaryId: `big-${i}-${start}`,
          calendarDate: new Date((day0 + i * 86400) * 1000).toISOString()
            .slice(0, 10),
          startTimeInSeconds: start,
          timeOffsetHeartRateSamples: hr,
        });
      }
      const body = { dailies };
      const size = Buffer.byteLength(JSON.stringify(body));
      assert.ok(size > 1.5 * 1048576, `the push is ${size} bytes`);
      const n0 = rx.firsts().length;
      const r = await garmin.push(hookUrl("garmin"), body);
      assert.equal(r.status, 200, `a ${size}-byte push: ${r.reply}`);
      // a daily's object is known by its day (it has no summary id)
      const ofDay = (d) => objects("daily", users.GARMIN, n0).find(
        (o) => o.metadata?.start_time?.startsWith(`${d.calendarDate}T`));
      await rx.waitFor(() => dailies.every(ofDay), 30000,
        "the thirty pushed days");
      assert.equal(
        ofDay(dailies[3]).heart_rate_data?.detailed?.hr_samples?.length,
        86400 / 15, "every heart-rate sample of the day");

      // without the path token the body is not read past the 1 MiB of
      // every other request
      const forged = await garmin.push(
        `${ferry.baseUrl}/hooks/garmin/${"0".repeat(32)}`, body);
      assert.equal(forged.status, 413, `no token, ${size} bytes`);
      const unknown = await garmin.push(
        `${ferry.baseUrl}/hooks/nosuch/${hookToken("garmin")}`, body);
      assert.equal(unknown.status, 413, "another provider's path");

      const api = await fetch(`${ferry.baseUrl}/v2/bulkUserInfo`, {
        method: "POST",
        headers: { ...apiHeaders(), "content-type": "application/json" },
        body: JSON.stringify({ padding: "x".repeat(size) }),
      });
      assert.equal(api.status, 413, "the API's own limit stays 1 MiB");
      const err = await api.json();
      assert.match(err.message, /body: larger than the limit of 1048576/);
    });

  test("GARMIN: a ping's callback is fetched with the user's token", T,
    async () => {
      const n0 = rx.firsts().length;
      const items = fixture("push_user_metrics.json").userMetrics;
      const r = await garmin.pushSummaries(hookUrl("garmin"), "userMetrics",
        items, { mode: "ping" });
      assert.equal(r.status, 200, `ping: ${r.reply}`);
      assert.ok(JSON.parse(r.body).userMetrics[0].callbackURL,
        "the ping carries only a callbackURL");
      await rx.waitFor(() => objects("body", users.GARMIN, n0).length >= 1,
        20000, "the Garmin user metrics as body");
      const pulled = garmin.hits("/wellness-api/rest/userMetrics");
      assert.equal(pulled.length, 1, "the callback was fetched once");
      assert.equal(pulled[0].status, 200);
      assert.match(pulled[0].headers.authorization ?? "", /^Bearer ga-/,
        "the user's access token");
      for (const ev of received("body", users.GARMIN, n0)) {
        assertDataEvent(ev, "body", users.GARMIN, "GARMIN");
      }

      // a callbackURL outside Garmin's API is not fetched: the user's
      // token would go with it
      const jobs0 = (await jobs("kind = 'push'")).length;
      const away = [
        `http://127.0.0.1:${rx.port}/elsewhere?token=x`,
        `${garmin.url}@127.0.0.1:${rx.port}/elsewhere`,
      ];
      for (const callbackURL of away) {
        const p = await garmin.push(hookUrl("garmin"), {
          userMetrics: [{ userId: GARMIN_USER, callbackURL }],
        });
        assert.equal(p.status, 200, p.reply);
      }
      await until(
        async () => (await jobs("kind = 'push'")).length === jobs0 + 2,
        10000, "the two pings' jobs");
      await jobsSettle(["push"], 20000, "the pings' jobs");
      const ended = (await jobs("kind = 'push'")).slice(jobs0);
      for (const j of ended) {
        assert.equal(j.state, "dead", JSON.stringify(j));
      }
      assert.deepEqual(
        rx.requests.filter((q) => q.path.startsWith("/elsewhere")), [],
        "nothing was sent outside the provider's API");
    });

  test("WITHINGS: a notify form to the path-token URL brings the sleeps",
    T, async () => {
      // ferry subscribed its path-token URL when the user connected
      const subscribed = withings.subscriptions.filter(
        (x) => x.userid === withings.userid &&
          x.callbackurl === hookUrl("withings"));
      for (const appli of [1, 44]) {
        assert.ok(subscribed.some((x) => x.appli === appli),
          `appli ${appli} subscribed at the hook URL: ` +
            JSON.stringify(withings.subscriptions));
      }
      const n0 = rx.firsts().length;
      const asked0 = withings.requests.filter(
        (q) => q.action === "getsummary").length;
      const r = await withings.push(hookUrl("withings"), {
        userid: withings.userid,
        appli: "44",
        startdate: String(WITHINGS_FROM),
        enddate: String(WITHINGS_TO),
      });
      assert.equal(r.status, 200, `notify: ${r.body}`);
      await rx.waitFor(
        () => objects("sleep", users.WITHINGS, n0).length >= 1, 20000,
        "a Withings sleep");
      assert.ok(
        withings.requests.filter((q) => q.action === "getsummary").length >
          asked0,
        "ferry asked getsummary for the notified window");
      for (const ev of received("sleep", users.WITHINGS)) {
        assertDataEvent(ev, "sleep", users.WITHINGS, "WITHINGS");
      }
    });

  test("pushes that are not authentic answer 401 and queue nothing", T,
    async () => {
      const jobs0 = await pushJobCount();
      const events0 = await eventCount();
      const seen0 = rx.firsts().length;

      // Oura: a signature under another key; no signature; the right
      // signature at another provider's path token
      const notice = { data_type: "workout", object_id: WORKOUT[1] };
      let r = await oura.push(hookUrl("oura"), notice,
        { secret: "not-the-client-secret" });
      assert.equal(r.status, 401, `forged Oura signature: ${r.body}`);
      r = await oura.push(hookUrl("oura"), notice, { signature: "" });
      assert.equal(r.status, 401, `empty Oura signature: ${r.body}`);
      r = await oura.push(
        `${ferry.baseUrl}/hooks/oura/${hookToken("garmin")}`, notice);
      assert.equal(r.status, 401, `Oura at a wrong path token: ${r.body}`);

      // Garmin: another app's client id; none
      const bodyComps = fixture("push_body_comps.json");
      r = await garmin.push(hookUrl("garmin"), bodyComps,
        { clientId: "another-garmin-app" });
      assert.equal(r.status, 401, `wrong garmin-client-id: ${r.reply}`);
      r = await garmin.push(hookUrl("garmin"), bodyComps,
        { headers: { "garmin-client-id": null } });
      assert.equal(r.status, 401, `no garmin-client-id: ${r.reply}`);

      // Withings: a wrong path token; none
      const activity = {
        userid: withings.userid,
        appli: "16",
        startdate: String(WITHINGS_FROM),
        enddate: String(WITHINGS_TO),
      };
      r = await withings.push(
        `${ferry.baseUrl}/hooks/withings/${"0".repeat(32)}`, activity);
      assert.equal(r.status, 401, `wrong Withings path token: ${r.body}`);
      r = await withings.push(
        `${ferry.baseUrl}/hooks/withings/${hookToken("oura")}`, activity);
      assert.equal(r.status, 401, `another provider's token: ${r.body}`);
      r = await withings.push(`${ferry.baseUrl}/hooks/withings`, activity);
      assert.equal(r.status, 401, `no Withings path token: ${r.body}`);

      // a push is queued before it is answered: nothing was
      assert.equal(await pushJobCount(), jobs0, "no push job queued");
      assert.equal(await eventCount(), events0, "no event made");

      // then one valid push of each: only their data arrives
      r = await oura.push(hookUrl("oura"), { data_type: "sleep",
        object_id: SLEEP(2) });
      assert.equal(r.status, 200, r.body);
      r = await garmin.push(hookUrl("garmin"),
        fixture("push_activities.json"));
      assert.equal(r.status, 200, r.reply);
      r = await withings.push(hookUrl("withings"), {
        userid: withings.userid,
        appli: "1",
        startdate: String(WITHINGS_FROM),
        enddate: String(WITHINGS_TO),
      });
      assert.equal(r.status, 200, r.body);
      await rx.waitFor(
        () => summaryIds("sleep", users.OURA).includes(SLEEP(2)), 20000,
        "the valid Oura sleep");
      await rx.waitFor(
        () => objects("activity", users.GARMIN, seen0).length >= 1, 20000,
        "the valid Garmin activities");
      await rx.waitFor(
        () => objects("body", users.WITHINGS, seen0).length >= 1, 20000,
        "the valid Withings measures");
      await jobsSettle(["push"], 20000, "the valid pushes' jobs");
      await new Promise((res) => setTimeout(res, QUIET_MS));

      const later = rx.firsts().slice(seen0);
      const allowed = new Set([
        `sleep/${users.OURA}`,
        `activity/${users.GARMIN}`,
        `body/${users.WITHINGS}`,
      ]);
      for (const ev of later) {
        const key = `${ev.json?.type}/${ev.json?.user?.user_id}`;
        assert.ok(allowed.has(key),
          `only the valid pushes' events arrive, not ${key}:\n` +
            describeRx());
      }
      assert.ok(!summaryIds("activity", users.OURA).includes(WORKOUT[1]),
        "the forged Oura workout was not fetched");
      assert.equal(oura.hits(`/v2/usercollection/workout/${WORKOUT[1]}`)
        .length, 0, "ferry never asked Oura for the forged workout");
      assert.equal(objects("body", users.GARMIN, seen0).length, 0,
        "no Garmin body composition (its pushes were refused)");
      assert.equal(objects("daily", users.WITHINGS, seen0).length, 0,
        "no Withings activity (its notices were refused)");
      const pushes = await jobs("kind = 'push'");
      assert.equal(pushes.length, jobs0 + 3,
        `one job per valid push: ${JSON.stringify(pushes, null, 1)}`);
      for (const j of pushes) {
        assert.ok(!String(j.payload).includes(WORKOUT[1]),
          "no job for the forged notice");
      }
    });

  test("OURA: the verification handshake answers the challenge", T,
    async () => {
      const token = ouraVerificationToken(ouraWebhookSecret);
      const challenge = randomBytes(9).toString("hex");
      const url = new URL(hookUrl("oura"));
      url.searchParams.set("verification_token", token);
      url.searchParams.set("challenge", challenge);
      const r = await request(url.href);
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get("content-type") ?? "", /application\/json/);
      assert.deepEqual(JSON.parse(r.text), { challenge });

      // another token is not ours
      url.searchParams.set("verification_token", "0".repeat(64));
      const bad = await request(url.href);
      assert.equal(bad.status, 401, bad.text);
      assert.ok(!bad.text.includes(challenge), "no challenge for a stranger");

    });

  test("OURA: the app's subscriptions are made at the hook URL", T,
    async () => {
      const sent = oura.requests.filter(
        (h) => h.path.startsWith("/v2/webhook/subscription") &&
          (h.method === "POST" || h.method === "PUT") && h.body !== "");
      assert.ok(sent.length >= 1, "ferry subscribed at start");
      for (const h of sent) {
        assert.equal(JSON.parse(h.body).callback_url, hookUrl("oura"),
          `${h.method} ${h.path} answered ${h.status}`);
      }
      // Oura makes a subscription only once its GET to the callback
      // got the challenge back
      const ours = oura.subscriptions.filter(
        (x) => x.callback_url === hookUrl("oura"));
      assert.ok(ours.length >= 1,
        `subscriptions at the hook URL: ${JSON.stringify(oura.subscriptions)}`);
    });

  test("OURA: an expired token is refreshed through two failed refreshes",
    { timeout: 90000 }, async () => {
      const tokenHits0 = oura.hits("/oauth/token").length;
      oura.expireTokens();
      oura.failNext(500, { path: "/oauth/token" });
      oura.failNext(500, { path: "/oauth/token" });
      const t0 = Date.now();
      const r = await oura.push(hookUrl("oura"), { data_type: "sleep",
        object_id: SLEEP(5) });
      assert.equal(r.status, 200, r.body);

      await rx.waitFor(
        () => summaryIds("sleep", users.OURA).includes(SLEEP(5)), 60000,
        "the sleep after the retried refresh");
      const took = Date.now() - t0;
      const refreshes = oura.hits("/oauth/token").slice(tokenHits0);
      assert.deepEqual(refreshes.map((h) => h.status), [500, 500, 200],
        "two refreshes failed, the third worked");
      for (const h of refreshes) {
        assert.equal(new URLSearchParams(h.body).get("grant_type"),
          "refresh_token");
      }
      // the job ran again after 5 s, then after 10 s more
      assert.ok(took >= 14000, `the retries waited (${took} ms)`);
      const gap1 = refreshes[1].at - refreshes[0].at;
      const gap2 = refreshes[2].at - refreshes[1].at;
      assert.ok(gap1 >= 4500 && gap1 < 9000, `first backoff ${gap1} ms`);
      assert.ok(gap2 >= 9500 && gap2 < 16000, `second backoff ${gap2} ms`);
      const job = (await jobs("kind = 'push'")).find((j) =>
        String(j.payload).includes(SLEEP(5)));
      assert.equal(job?.state, "done", JSON.stringify(job));
      assert.equal(job.attempts, 2, "two failed attempts before it worked");
      for (const ev of received("sleep", users.OURA)) {
        assertDataEvent(ev, "sleep", users.OURA, "OURA");
      }
      assert.equal(received("connection_error").length, 0,
        "a refresh that failed for a while is not a dead connection");
      assert.equal(await userState(users.OURA), "connected");
    });

  test("OURA: invalid_grant ends in one connection_error and needs_reauth",
    T, async () => {
      oura.expireTokens();
      oura.expireRefreshTokens();
      let r = await oura.push(hookUrl("oura"), { data_type: "sleep",
        object_id: SLEEP(6) });
      assert.equal(r.status, 200, r.body);
      await rx.waitFor(() => received("connection_error").length >= 1,
        20000, "a connection_error event");
      const ev = received("connection_error")[0];
      assert.ok(ev.verified, "the connection_error is signed");
      assert.equal(ev.json.user?.user_id, users.OURA);
      assert.equal(ev.json.user?.provider, "OURA");
      const last = oura.hits("/oauth/token").at(-1);
      assert.equal(last.status, 400);
      assert.equal(new URLSearchParams(last.body).get("grant_type"),
        "refresh_token");

      assert.equal(await userState(users.OURA), "needs_reauth");
      const info = await request(
        `${ferry.baseUrl}/v2/userInfo?user_id=${users.OURA}`,
        { headers: apiHeaders() });
      assert.equal(info.status, 200, info.text);
      assert.equal(JSON.parse(info.text).is_authenticated, false,
        "userInfo: not authenticated");

      // more pushes: still one connection_error, and no data
      for (const id of [WORKOUT[2], WORKOUT[3]]) {
        r = await oura.push(hookUrl("oura"), { data_type: "workout",
          object_id: id });
        assert.equal(r.status, 200, r.body);
      }
      // and a poll due: the scheduler polls the connected user whose
      // time came, not the one who must connect again
      await sql(store.db, "UPDATE users SET last_polled_at = 1 WHERE id IN" +
        ` ('${users.OURA}', '${users.WITHINGS}');`);
      await until(
        async () =>
          (await jobs(`kind = 'poll' AND user_id = '${users.WITHINGS}'`))
            .length >= 1,
        10000, "a poll of the connected Withings user");
      await new Promise((res) => setTimeout(res, QUIET_MS));
      assert.deepEqual(
        await jobs(`kind = 'poll' AND user_id = '${users.OURA}'`), [],
        "no poll of a user who must connect again");
      await jobsSettle(["push", "poll"], 30000,
        "the later pushes' and the poll's jobs");
      await new Promise((res) => setTimeout(res, QUIET_MS));
      assert.equal(received("connection_error").length, 1,
        `exactly one connection_error:\n${describeRx()}`);
      const stored = (await ferry.events()).filter(
        (e) => e.type === "connection_error");
      assert.equal(stored.length, 1, "one connection_error stored");
      assert.ok(!summaryIds("sleep", users.OURA).includes(SLEEP(6)),
        "no sleep without a grant");
      for (const id of [WORKOUT[2], WORKOUT[3]]) {
        assert.ok(!summaryIds("activity", users.OURA).includes(id),
          `no workout ${id} without a grant`);
      }
      assert.equal(await userState(users.OURA), "needs_reauth");
      // the other connections are untouched
      assert.equal(await userState(users.GARMIN), "connected");
      assert.equal(await userState(users.WITHINGS), "connected");
    });
});

describe("a worker process (no HTTP server)", () => {
  let wstore;
  let wrx;
  let woura;
  let worker;
  let werr = "";
  let exited;

  before(async () => {
    wstore = makeStore();
    wrx = await startReceiver();
    woura = await startOura();
    const conf = join(wstore.dir, "ferry.conf");
    writeFileSync(conf, [
      "[server]",
      "listen = 127.0.0.1:0",
      `public_url = http://127.0.0.1:${wrx.port}`,
      "",
      "[store]",
      `url = sqlite:${wstore.db}`,
      "",
      "[security]",
      `key_file = ${wstore.key}`,
      "",
      "[provider oura]",
      `client_id = ${woura.clientId}`,
      `client_secret = ${woura.clientSecret}`,
      `authorize_url = ${woura.url}/oauth/authorize`,
      `token_url = ${woura.url}/oauth/token`,
      `revoke_url = ${woura.url}/oauth/revoke`,
      `userinfo_url = ${woura.url}/v2/usercollection/personal_info`,
      `api_url = ${woura.url}`,
      "",
    ].join("\n"), { mode: 0o600 });
    worker = spawn(ferryBin, ["serve", "--config", conf, "--role", "worker"],
      { env: childEnv(), stdio: ["ignore", "ignore", "pipe"] });
    worker.stderr.setEncoding("utf8");
    worker.stderr.on("data", (d) => {
      werr += d;
    });
    exited = new Promise((res) => worker.on("exit", (code, signal) =>
      res({ code, signal })));
  });

  after(async () => {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.kill("SIGTERM");
    }
    const r = await exited;
    await stopAll(() => wrx?.stop(), () => woura?.stop());
    wstore?.remove();
    assert.equal(r.code, 0, `the worker stopped badly:\n${werr}`);
    assert.equal(sanitizerReport(werr), null, werr);
  });

  test("OURA: a worker subscribes at the configured public URL", T,
    async () => {
      const posted = await until(
        () => woura.requests.find((h) => h.method === "POST" &&
          h.path === "/v2/webhook/subscription"),
        10000, "a subscription from the worker", () => werr);
      const want = `http://127.0.0.1:${wrx.port}/hooks/oura/` +
        hookToken("oura", wstore.key);
      assert.equal(JSON.parse(posted.body).callback_url, want,
        "the callback URL is under [server] public_url");
    });
});
