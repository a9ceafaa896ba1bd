// deliver_crash.test.mjs - kill -9 in the middle of delivering hundreds
// of events, start again on the same store: every event arrives at least
// once, a second arrival carries the same ferry-event-id and bytes, and
// each user's events first arrive in the order they were made.
//
// The first process is started here rather than with startFerry(), which
// offers no way to send SIGKILL; the second one is an ordinary
// startFerry() on the same store.

import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import assert from "node:assert/strict";

import { childEnv, ferryBin, stopAll } from "./lib/ferry.mjs";
import {
  deliveryConfig,
  insertEvents,
  insertUsers,
  makeStore,
  sql,
  startFerryOn,
  startReceiver,
  until,
} from "./lib/receiver.mjs";

const USERS = 8;
const PER_USER = 50;
const ANSWER_MS = 40;
// the leases of the killed process end after timeout + 10 s
const DELIVER = { retry_base_seconds: 1, timeout_seconds: 1 };

function cli(confPath, args) {
  return new Promise((resolveCli, reject) => {
    execFile(
      ferryBin,
      [...args, "--config", confPath],
      { env: childEnv(), timeout: 15000, encoding: "utf8" },
      (err, out, errText) => {
        if (err) {
          reject(
            new Error(`ferry ${args.join(" ")}: ${err.message}\n${errText}`),
          );
          return;
        }
        resolveCli(out);
      },
    );
  });
}

/* `ferry serve` on `confPath`, once it listens; { child, exited }. */
async function spawnServe(confPath) {
  const child = spawn(ferryBin, ["serve", "--config", confPath], {
    env: childEnv(),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const reap = () => child.kill("SIGKILL");
  process.on("exit", reap);
  child.on("exit", () => process.off("exit", reap));
  let stderr = "";
  child.stderr.setEncoding("utf8");
  const exited = new Promise((r) => child.on("exit", (code, signal) =>
    r({ code, signal })));
  await new Promise((resolveListen, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`ferry did not listen:\n${stderr}`));
    }, 15000);
    child.stderr.on("data", (d) => {
      stderr += d;
      if (/event=listening addr=127\.0\.0\.1:\d+/.test(stderr)) {
        clearTimeout(timer);
        resolveListen();
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited (${code}, ${signal}):\n${stderr}`));
    });
  });
  return { child, exited, stderr: () => stderr };
}

test("kill -9 mid-delivery, restart: nothing lost, order kept", {
  timeout: 90000,
}, async (t) => {
  const store = makeStore();
  let rx = null;
  let first = null;
  let second = null;
  try {
    rx = await startReceiver();
    rx.respond(async () => {
      await new Promise((r) => setTimeout(r, ANSWER_MS));
      return 200;
    });

    // a store with its key, a developer, the destination, 400 events
    const init = await startFerryOn(store, {
      allowPrivate: true,
      deliver: DELIVER,
    });
    await init.stop();
    const confPath = join(store.dir, "ferry.conf");
    writeFileSync(
      confPath,
      deliveryConfig(store, { allowPrivate: true, deliver: DELIVER }),
      { mode: 0o600 },
    );
    const dev = JSON.parse(
      await cli(confPath, ["developer", "create", "crash", "--json"]),
    );
    const dest = JSON.parse(
      await cli(confPath, [
        "destination",
        "add",
        dev.dev_id,
        "webhook",
        rx.url,
        "--json",
      ]),
    );
    rx.secrets = [dest.secret];
    const users = await insertUsers(store.db, dev.dev_id, USERS, "crash");
    const specs = [];
    for (let i = 0; i < PER_USER; i++) {
      for (const u of users) {
        specs.push({ userId: u, seq: i });
      }
    }
    const evs = await insertEvents(store.db, dev.dev_id, specs);
    const byId = new Map(evs.map((e) => [e.id, e]));

    first = await spawnServe(confPath);
    await rx.waitFor(
      () => rx.ids().length >= evs.length / 4,
      30000,
      "a quarter of the events",
    );
    first.child.kill("SIGKILL");
    const how = await first.exited;
    assert.equal(how.signal, "SIGKILL");
    const atKill = rx.ids().length;
    assert.ok(atKill < evs.length, `killed mid-way (${atKill} arrived)`);

    second = await startFerryOn(store, {
      allowPrivate: true,
      deliver: DELIVER,
    });
    await rx.waitFor(
      () => evs.every((e) => rx.count(e.id) >= 1),
      40000,
      "every event after the restart",
    );
    await until(
      async () => {
        const rows = await sql(
          store.db,
          "SELECT state, count(*) AS n FROM deliveries GROUP BY state;",
          { json: true },
        );
        return rows.length === 1 && rows[0].state === "delivered" &&
          rows[0].n === evs.length;
      },
      15000,
      "every delivery settled as delivered",
      async () =>
        JSON.stringify(
          await sql(
            store.db,
            "SELECT state, count(*) AS n FROM deliveries GROUP BY state;",
            { json: true },
          ),
        ),
    );

    // nothing unknown, nothing lost
    for (const id of rx.ids()) {
      assert.ok(byId.has(id), `unknown ferry-event-id ${id}`);
    }
    assert.equal(rx.ids().length, evs.length);

    // a repeat is the same event: same id in header and body, same bytes
    const repeated = [];
    for (const e of evs) {
      const recs = rx.of(e.id);
      for (const r of recs) {
        assert.equal(r.raw.toString("utf8"), e.body, `${e.id}: same bytes`);
        assert.equal(r.json.ferry.event_id, e.id);
        assert.equal(r.verified, true, `${e.id}: signature`);
      }
      if (recs.length > 1) {
        repeated.push(e);
      }
    }
    // only a user's head can be in flight: at most one repeat per user
    const perUser = new Map();
    for (const e of repeated) {
      perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
    }
    t.diagnostic(
      `${atKill} of ${evs.length} events had arrived at the kill; ` +
        `${repeated.length} arrived twice`,
    );
    for (const [u, n] of perUser) {
      assert.ok(n <= 1, `user ${u}: ${n} events sent twice`);
    }

    // per user, first arrivals in creation order
    const seen = new Map(users.map((u) => [u, []]));
    for (const r of rx.firsts()) {
      seen.get(byId.get(r.eventId).userId).push(byId.get(r.eventId).seq);
    }
    const want = [...Array(PER_USER).keys()];
    for (const u of users) {
      assert.deepEqual(seen.get(u), want, `user ${u} in order`);
    }
  } finally {
    if (first) {
      first.child.kill("SIGKILL");
    }
    await stopAll(
      () => rx?.stop(),
      () => second?.stop(),
    );
    store.remove();
  }
});
