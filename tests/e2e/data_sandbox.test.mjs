// data_sandbox.test.mjs - the main job end to end with SANDBOX: a user
// connects through the widget in Chromium, and the developer's webhook
// receives the auth event, then the backfilled data in Terra's shapes,
// signed; a SANDBOX day passing brings new data by polling; the data
// endpoint answers the same records inline.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { launchBrowser } from "./lib/browser.mjs";
import {
  createDeveloper,
  pickProvider,
  sandboxDecide,
  sandboxLogin,
  stopAll,
  terraClient,
} from "./lib/ferry.mjs";
import {
  addWebhook,
  makeStore,
  startFerryOn,
  startReceiver,
} from "./lib/receiver.mjs";

const T = { timeout: 150000 };
// what the first test's waits may take together
const WAIT_MS = 100000;
const ISO_OFFSET_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}$/;
const DAY_SECONDS = 4;

let store;
let ferry;
let rx;
let browser;
let dev;
let userId;

function eventsOfType(type) {
  return rx.firsts().filter((r) => r.json?.type === type);
}

function dataOf(type) {
  return eventsOfType(type).flatMap((r) => r.json.data ?? []);
}

describe("SANDBOX data reaches the webhook", () => {
  before(async () => {
    store = makeStore();
    rx = await startReceiver();
    ferry = await startFerryOn(store, {
      allowPrivate: true,
      extra: `[sandbox]\nday_seconds = ${DAY_SECONDS}`,
    });
    dev = await createDeveloper(ferry, "data-e2e");
    const dest = await addWebhook(ferry, dev.dev_id, rx.url);
    rx.secrets.push(dest.secret);
    browser = await launchBrowser();
  });

  after(async () => {
    await stopAll(
      () => browser?.close(),
      () => ferry?.stop(),
      () => rx?.stop(),
    );
    store?.remove();
  });

  test("connect in Chromium: auth, then the backfill, all signed", T,
    async () => {
      const s = await terraClient(ferry, dev).authentication
        .generatewidgetsession({ reference_id: "runner-1",
          providers: "SANDBOX" });
      const page = await browser.fresh();
      const res = await page.goto(s.url);
      assert.equal(res.status(), 200);
      await pickProvider(page, "SANDBOX");
      await sandboxLogin(page, ferry, "data-runner");
      await sandboxDecide(page, "allow");
      // The visitor leaves ferry's last page; the data must come without
      // it. The tab is not closed: see browser.mjs.
      await page.goto("about:blank");

      // one deadline for all the waits, well inside the test's timeout,
      // so that a wait that fails says what it missed
      const deadline = Date.now() + WAIT_MS;
      const left = () => Math.max(deadline - Date.now(), 1);
      await rx.waitFor(() => eventsOfType("auth").length >= 1, left(),
        "the auth event");
      userId = eventsOfType("auth")[0].json.user.user_id;
      for (const type of ["activity", "sleep", "daily", "body", "athlete"]) {
        await rx.waitFor(() => eventsOfType(type).length >= 1, left(),
          `a ${type} event`);
      }
      await rx.waitFor(
        () => eventsOfType("backfill_complete").length >= 5, left(),
        "backfill_complete for each type");
      // the auth event came first
      assert.equal(rx.firsts()[0].json.type, "auth");
      for (const r of rx.firsts()) {
        assert.ok(r.verified, `event ${r.eventId} (${r.json?.type}) verified`);
        if (["activity", "sleep", "daily", "body"].includes(r.json.type)) {
          assert.ok(r.json.data.length >= 1 && r.json.data.length <= 10,
            "at most 10 objects per event");
          assert.equal(r.json.user.user_id, userId);
          assert.equal(r.json.version, "2022-03-16");
        }
      }
    });

  test("every object has Terra's shape", T, async () => {
    for (const a of dataOf("activity")) {
      assert.match(a.metadata.start_time, ISO_OFFSET_RE);
      assert.match(a.metadata.end_time, ISO_OFFSET_RE);
      assert.equal(typeof a.metadata.type, "number");
      assert.equal(typeof a.metadata.upload_type, "number");
      assert.equal(typeof a.metadata.summary_id, "string");
    }
    const withSamples = dataOf("activity").find(
      (a) => a.heart_rate_data?.detailed?.hr_samples?.length > 0);
    assert.ok(withSamples, "a workout with heart-rate samples");
    for (const s of dataOf("sleep")) {
      assert.match(s.metadata.start_time, ISO_OFFSET_RE);
      assert.equal(typeof s.metadata.upload_type, "number");
      const hyp = s.sleep_durations_data?.hypnogram_samples ?? [];
      for (const h of hyp) {
        assert.ok([0, 1, 2, 3, 4, 5, 6].includes(h.level), "SleepLevel code");
      }
    }
    for (const d of dataOf("daily")) {
      assert.match(d.metadata.start_time, ISO_OFFSET_RE);
      assert.equal(typeof d.distance_data.steps, "number");
    }
    for (const b of dataOf("body")) {
      assert.match(b.metadata.start_time, ISO_OFFSET_RE);
    }
    const athlete = eventsOfType("athlete")[0].json.athlete;
    assert.equal(typeof athlete, "object");
    assert.ok(!Array.isArray(athlete), "athlete is one object");
    const bc = eventsOfType("backfill_complete")[0].json;
    assert.match(bc.start_date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(bc.user.user_id, userId);
  });

  test("a SANDBOX day passing brings new data by polling", T, async () => {
    const seen = new Set(dataOf("daily").map((d) => d.metadata.start_time));
    const latest = [...seen].sort().at(-1);
    const fresh = await rx.waitFor(() => dataOf("daily").find(
      (d) => d.metadata.start_time > latest), 60000, "a new day of data");
    assert.ok(fresh.metadata.start_time > latest);
  });

  test("GET /v2/sleep?to_webhook=false answers the same records", T,
    async () => {
      // SANDBOX days run ahead of the calendar here (short days); the
      // endpoint ends ranges at the real now, so compare what began
      // before it
      const sleeps = dataOf("sleep").filter(
        (s) => Date.parse(s.metadata.end_time) < Date.now() - 60000);
      assert.ok(sleeps.length > 0, "backfilled sleeps in the past");
      const starts = sleeps.map((s) => Date.parse(s.metadata.start_time));
      const from = Math.floor(Math.min(...starts) / 1000);
      const to = Math.floor(Math.max(...starts) / 1000) + 1;
      const url = `${ferry.baseUrl}/v2/sleep?user_id=${userId}` +
        `&start_date=${from}&end_date=${to}&to_webhook=false`;
      const res = await fetch(url, {
        headers: { "dev-id": dev.dev_id, "x-api-key": dev.api_key },
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.user.user_id, userId);
      const inline = new Map(
        body.data.map((s) => [s.metadata.start_time, s]));
      for (const s of sleeps) {
        const got = inline.get(s.metadata.start_time);
        assert.ok(got, `sleep of ${s.metadata.start_time} inline`);
        assert.deepEqual(got.metadata, s.metadata);
        assert.deepEqual(got.sleep_durations_data.asleep,
          s.sleep_durations_data.asleep);
        // with_samples defaults to false: no sample arrays inline
        assert.equal(got.sleep_durations_data.hypnogram_samples, undefined);
      }
    });

  test("a request over 28 days comes in chunks with its reference", T,
    async () => {
      const end = Math.floor(Date.now() / 1000) - 86400;
      const start = end - 40 * 86400;
      const url = `${ferry.baseUrl}/v2/activity?user_id=${userId}` +
        `&start_date=${start}&end_date=${end}`;
      const res = await fetch(url, {
        headers: { "dev-id": dev.dev_id, "x-api-key": dev.api_key },
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      const ref = body.reference;
      assert.match(ref ?? "", /^[0-9a-f-]{36}$/);
      const ofRef = () => rx.firsts().filter(
        (r) => r.headers["terra-reference"] === ref);
      await rx.waitFor(() => ofRef().some(
        (r) => r.json?.type === "large_request_sending"), 60000,
      "large_request_sending");
      const got = ofRef();
      assert.equal(got[0].json.type, "large_request_processing");
      assert.equal(got.at(-1).json.type, "large_request_sending");
      const chunks = got.filter((r) => r.json.type === "activity");
      assert.ok(chunks.length >= 1, "data chunks");
      for (const c of chunks) {
        assert.ok(c.verified, "chunk signed");
        assert.ok(c.json.data.length >= 1 && c.json.data.length <= 10,
          "at most 10 objects per chunk");
        for (const a of c.json.data) {
          assert.equal(a.heart_rate_data?.detailed?.hr_samples, undefined,
            "with_samples defaults to false");
        }
      }
      assert.equal(got.at(-1).json.expected_payloads, chunks.length);
    });
});
