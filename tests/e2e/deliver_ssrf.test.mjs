// deliver_ssrf.test.mjs - without [security] allow_private_destinations
// ferry refuses destinations on loopback, however the address is
// spelled, through the CLI and the API; and a destination added while it
// was allowed gets nothing once it is not (each connection checks).
//
// Every URL here names loopback; a receiver listens on 127.0.0.1 at the
// port they name and must see no request at all.

import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { childEnv, createDeveloper, ferryBin, stopAll } from "./lib/ferry.mjs";
import {
  addWebhook,
  connectSandbox,
  insertEvents,
  makeStore,
  showEvent,
  startFerryOn,
  startReceiver,
  until,
} from "./lib/receiver.mjs";

const T = { timeout: 30000 };

let rx;

function loopbackForms(port) {
  return [
    `http://127.0.0.1:${port}/hook`,
    `http://127.1:${port}/hook`,
    `http://2130706433:${port}/hook`,
    `http://0x7f000001:${port}/hook`,
    `http://localhost:${port}/hook`,
    `http://[::1]:${port}/hook`,
    `http://[::ffff:127.0.0.1]:${port}/hook`,
    `http://[::ffff:7f00:1]:${port}/hook`,
    `http://0177.0.0.1:${port}/hook`,
    `http://0.0.0.0:${port}/hook`,
  ];
}

/* `ferry ARGS --config` of `ferry`, whatever its exit: {code, out, err}. */
function run(ferry, args) {
  return new Promise((resolveRun) => {
    execFile(
      ferryBin,
      [...args, "--config", ferry.confPath],
      { env: childEnv(), timeout: 15000, encoding: "utf8" },
      (err, out, errText) => {
        resolveRun({ code: err ? err.code ?? -1 : 0, out, err: errText });
      },
    );
  });
}

before(async () => {
  rx = await startReceiver();
});

after(async () => {
  await stopAll(() => rx?.stop());
});

describe("private destinations refused", () => {
  let store;
  let ferry;
  let dev;

  before(async () => {
    store = makeStore();
    ferry = await startFerryOn(store, {
      allowPrivate: false,
      deliver: { retry_base_seconds: 1 },
    });
    dev = await createDeveloper(ferry, "ssrf");
  });

  after(async () => {
    await stopAll(() => ferry?.stop());
    store?.remove();
  });

  for (const form of loopbackForms("PORT")) {
    test(`ferry destination add ${form}`, T, async () => {
      const url = form.replace("PORT", String(rx.port));
      const r = await run(ferry, [
        "destination",
        "add",
        dev.dev_id,
        "webhook",
        url,
        "--json",
      ]);
      assert.notEqual(r.code, 0, `accepted: ${r.out}`);
      assert.match(r.err, /url/i, `the message names url: ${r.err}`);
      assert.doesNotMatch(r.out, /[0-9a-f]{64}/, "no secret printed");
    });

    test(`POST /v2/destinations ${form}`, T, async () => {
      const url = form.replace("PORT", String(rx.port));
      const res = await fetch(`${ferry.baseUrl}/v2/destinations`, {
        method: "POST",
        headers: {
          "dev-id": dev.dev_id,
          "x-api-key": dev.api_key,
          "content-type": "application/json",
        },
        body: JSON.stringify({ type: "webhook", url }),
        signal: AbortSignal.timeout(10000),
      });
      const text = await res.text();
      assert.ok(
        res.status === 400 || res.status === 403,
        `status ${res.status}: ${text}`,
      );
      assert.match(res.headers.get("content-type") ?? "", /json/);
      const body = JSON.parse(text);
      assert.equal(body.status, "error", text);
      assert.match(text, /url/i, `the error names url: ${text}`);
      assert.doesNotMatch(text, /[0-9a-f]{64}/, "no secret");
    });
  }

  test("none of them was added", T, async () => {
    const out = await ferry.cli([
      "destination",
      "list",
      "--dev",
      dev.dev_id,
      "--json",
    ]);
    assert.deepEqual(JSON.parse(out), []);
    const res = await fetch(`${ferry.baseUrl}/v2/destinations`, {
      headers: { "dev-id": dev.dev_id, "x-api-key": dev.api_key },
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(text.includes(String(rx.port)), false, text);
  });
});

describe("each connection checks again", () => {
  test("added while allowed, refused once it is not", T, async (t) => {
    const store = makeStore();
    let ferry = null;
    try {
      ferry = await startFerryOn(store, {
        allowPrivate: true,
        deliver: { retry_base_seconds: 1 },
      });
      const dev = await createDeveloper(ferry, "ssrf-later");
      const dest = await addWebhook(ferry, dev.dev_id, rx.url);
      assert.match(dest.secret, /^[0-9a-f]{64}$/);
      await ferry.stop();
      ferry = null;

      ferry = await startFerryOn(store, {
        allowPrivate: false,
        deliver: { retry_base_seconds: 1, retries: 1 },
      });
      // an event ferry makes itself, and one added to the store
      const userId = await connectSandbox(ferry, dev, "mallory", "m-1");
      const auth = (await ferry.events()).find(
        (e) => e.type === "auth" && e.user_id === userId,
      );
      assert.ok(auth, "the auth event");
      const [ev] = await insertEvents(store.db, dev.dev_id, [
        { type: "healthcheck" },
      ]);
      for (const id of [auth.id, ev.id]) {
        let last = null;
        const d = await until(
          async () => {
            const shown = await showEvent(ferry, id);
            last = shown;
            const ds = shown.deliveries ?? [];
            return ds.length === 1 && ds[0].state === "dead" ? ds[0] : null;
          },
          15000,
          `the delivery of ${id} dead`,
          () => JSON.stringify(last),
        );
        assert.equal(d.destination_id, dest.id);
        assert.equal(d.attempts, 2, "retries = 1: two attempts");
        assert.equal(d.attempt_log.length, 2);
        for (const at of d.attempt_log) {
          assert.equal(at.status, null, "no HTTP answer");
          assert.match(at.error ?? "", /\S/, "the refusal is recorded");
        }
        t.diagnostic(`attempt error: ${d.attempt_log[0].error}`);
      }
      assert.equal(rx.requests.length, 0, rx.summary());
      assert.equal(rx.connections(), 0, "no connection was opened");
    } finally {
      await stopAll(() => ferry?.stop());
      store.remove();
    }
  });
});

test("the receiver was never reached", () => {
  assert.equal(rx.requests.length, 0, rx.summary());
  assert.equal(rx.connections(), 0, "no connection was even opened");
});
