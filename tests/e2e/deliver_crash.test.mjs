// deliver_crash.test.mjs - kill -9 in the middle of delivering hundreds
// of events, start again on the same store: every event arrives at least
// once, a second arrival carries the same ferry-event-id and bytes, and
// each user's events first arrive in the order they were made. Then the
// same with two workers on one store, the one holding the destination
// killed: the other takes it over. And a worker stopped (SIGSTOP) past
// its lease and resumed: it sends nothing more, the other having taken
// the destination over.
//
// The processes killed are started here rather than with startFerry(),
// which offers no way to send SIGKILL; the restart is an ordinary
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
// the leases of the killed process end after timeout + 10 s (its retries
// in flight: 2 * timeout + 10 s)
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

/* `ferry serve` on `confPath` with `args`, once its stderr matches
 * `ready` (it listens, by default); { child, exited, stderr }. */
async function spawnServe(
  confPath,
  args = [],
  ready = /event=listening addr=127\.0\.0\.1:\d+/,
) {
  const child = spawn(ferryBin, ["serve", ...args, "--config", confPath], {
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
      if (ready.test(stderr)) {
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

/* A store with its key, a developer, a webhook destination to a new
 * receiver answering 200 after ANSWER_MS, and USERS x PER_USER events. */
async function setUp(store, deliver = DELIVER) {
  const rx = await startReceiver();
  rx.respond(async () => {
    await new Promise((r) => setTimeout(r, ANSWER_MS));
    return 200;
  });
  const init = await startFerryOn(store, { allowPrivate: true, deliver });
  await init.stop();
  const confPath = join(store.dir, "ferry.conf");
  writeFileSync(
    confPath,
    deliveryConfig(store, { allowPrivate: true, deliver }),
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
  return { rx, confPath, users, evs, byId: new Map(evs.map((e) => [e.id, e])) };
}

/* Every event of `s` arrives, is settled as delivered, a repeat is the
 * same event (at most one per user: only a user's head is in flight),
 * and each user's first arrivals come in creation order. */
async function checkAllArrived(t, store, s, atKill) {
  const { rx, evs, byId, users } = s;
  const states = () =>
    sql(
      store.db,
      "SELECT state, count(*) AS n FROM deliveries GROUP BY state;",
      { json: true },
    );

  await rx.waitFor(
    () => evs.every((e) => rx.count(e.id) >= 1),
    40000,
    "every event after the kill",
  );
  await until(
    async () => {
      const rows = await states();
      return rows.length === 1 && rows[0].state === "delivered" &&
        rows[0].n === evs.length;
    },
    15000,
    "every delivery settled as delivered",
    async () => JSON.stringify(await states()),
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
}

/* The worker of `workers` that holds the destination's lease (its owner
 * is host:pid:random). */
async function leaseHolder(store, workers) {
  const [{ owner }] = await sql(
    store.db,
    "SELECT lease_owner AS owner FROM destinations;",
    { json: true },
  );
  const pid = Number(String(owner).split(":").at(-2));
  const holder = workers.find((w) => w.child.pid === pid);
  assert.ok(holder, `the lease is a worker's (${owner})`);
  return holder;
}

/* Start `n` workers (`ferry serve --role worker`) on `confPath`, each
 * put in `workers` as soon as it runs (the caller stops them all). */
async function startWorkers(confPath, workers, n = 2) {
  for (let i = 0; i < n; i++) {
    workers.push(
      await spawnServe(confPath, ["--role", "worker"],
        /event=worker role=worker/),
    );
  }
}

test("kill -9 mid-delivery, restart: nothing lost, order kept", {
  timeout: 90000,
}, async (t) => {
  const store = makeStore();
  let s = null;
  let first = null;
  let second = null;
  try {
    s = await setUp(store);
    first = await spawnServe(s.confPath);
    await s.rx.waitFor(
      () => s.rx.ids().length >= s.evs.length / 4,
      30000,
      "a quarter of the events",
    );
    first.child.kill("SIGKILL");
    const how = await first.exited;
    assert.equal(how.signal, "SIGKILL");
    const atKill = s.rx.ids().length;
    assert.ok(atKill < s.evs.length, `killed mid-way (${atKill} arrived)`);

    second = await startFerryOn(store, {
      allowPrivate: true,
      deliver: DELIVER,
    });
    await checkAllArrived(t, store, s, atKill);
  } finally {
    if (first) {
      first.child.kill("SIGKILL");
    }
    await stopAll(
      () => s?.rx.stop(),
      () => second?.stop(),
    );
    store.remove();
  }
});

test("two workers on one store, the destination's holder killed: the " +
  "other takes it over", { timeout: 90000 }, async (t) => {
  const store = makeStore();
  const workers = [];
  let s = null;
  try {
    s = await setUp(store);
    await startWorkers(s.confPath, workers);
    await s.rx.waitFor(
      () => s.rx.ids().length >= s.evs.length / 4,
      30000,
      "a quarter of the events",
    );
    const holder = await leaseHolder(store, workers);
    const other = workers.find((w) => w !== holder);
    holder.child.kill("SIGKILL");
    assert.equal((await holder.exited).signal, "SIGKILL");
    const atKill = s.rx.ids().length;
    assert.ok(atKill < s.evs.length, `killed mid-way (${atKill} arrived)`);

    await checkAllArrived(t, store, s, atKill);
    assert.equal(await leaseHolder(store, workers), other,
      "the other worker holds the destination now");
    other.child.kill("SIGTERM");
    assert.equal((await other.exited).code, 0, other.stderr());
  } finally {
    for (const w of workers) {
      w.child.kill("SIGKILL");
    }
    await stopAll(() => s?.rx.stop());
    store.remove();
  }
});

// The other worker still holds the destination at the resume, or has
// stopped cleanly (giving its lease up, so the resumed one takes it back)
for (const otherAtResume of ["holds it", "has stopped"]) {
  test("a worker stopped past its lease, then resumed while the other " +
    `${otherAtResume}: it sends nothing the other sent`, {
    timeout: 90000,
  }, async (t) => {
    const store = makeStore();
    const workers = [];
    let s = null;
    try {
      // two request slots: claimed events wait on the holder's ready list
      s = await setUp(store, { ...DELIVER, concurrency: 2 });
      await startWorkers(s.confPath, workers);
      await s.rx.waitFor(
        () => s.rx.ids().length >= s.evs.length / 4,
        30000,
        "a quarter of the events",
      );
      const holder = await leaseHolder(store, workers);
      const other = workers.find((w) => w !== holder);
      holder.child.kill("SIGSTOP");
      const atStop = s.rx.ids().length;
      assert.ok(atStop < s.evs.length, `stopped mid-way (${atStop} arrived)`);

      // its lease ends; the other takes the destination and sends the rest
      await checkAllArrived(t, store, s, atStop);
      assert.equal(await leaseHolder(store, workers), other);
      if (otherAtResume === "has stopped") {
        other.child.kill("SIGTERM");
        assert.equal((await other.exited).code, 0, other.stderr());
      }

      // resumed: its requests of before the stop end, its engine finds the
      // destination taken, or takes it back; what waited for a request
      // slot under its old lease is not sent
      const before = s.rx.requests.length;
      holder.child.kill("SIGCONT");
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(
        s.rx.requests.length - before,
        0,
        "requests from the resumed worker",
      );
      for (const w of workers) {
        w.child.kill("SIGTERM");
        assert.equal((await w.exited).code, 0, w.stderr());
      }
    } finally {
      for (const w of workers) {
        w.child.kill("SIGCONT");
        w.child.kill("SIGKILL");
      }
      await stopAll(() => s?.rx.stop());
      store.remove();
    }
  });
}

test("a worker stopped past its lease, then resumed alone: what its " +
  "ready list held is not sent, and [deliver] concurrency still holds", {
  timeout: 90000,
}, async () => {
  const store = makeStore();
  const CONCURRENCY = 2;
  let s = null;
  let w = null;
  try {
    s = await setUp(store, { ...DELIVER, concurrency: CONCURRENCY });
    // requests the receiver holds at once, and the most of them
    let open = 0;
    let most = 0;
    s.rx.respond(async () => {
      open++;
      most = Math.max(most, open);
      await new Promise((r) => setTimeout(r, 100));
      open--;
      return 200;
    });
    w = await spawnServe(s.confPath, ["--role", "worker"],
      /event=worker role=worker/);
    await s.rx.waitFor(
      () => s.rx.ids().length >= s.evs.length / 8,
      30000,
      "an eighth of the events",
    );
    assert.equal(most, CONCURRENCY, "the limit is reached before the stop");
    // past its lease (timeout_seconds + 10 s): the first requests to
    // end after the resume find it over and end the ready list untried
    w.child.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 12000));
    const atResume = s.rx.ids().length;
    most = 0;
    w.child.kill("SIGCONT");
    await s.rx.waitFor(
      () => s.rx.ids().length >= atResume + 40,
      30000,
      "40 more events after the resume",
    );
    assert.ok(most <= CONCURRENCY,
      `at most ${CONCURRENCY} requests at once after the resume: ${most}`);
    w.child.kill("SIGTERM");
    assert.equal((await w.exited).code, 0, w.stderr());
  } finally {
    if (w) {
      w.child.kill("SIGCONT");
      w.child.kill("SIGKILL");
    }
    await stopAll(() => s?.rx.stop());
    store.remove();
  }
});
