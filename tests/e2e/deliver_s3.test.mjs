// deliver_s3.test.mjs - the s3 destination against s3rver, a fake S3 on
// 127.0.0.1: one object per event under a key fixed by the event, the
// stored bytes unchanged, a replay overwriting the same object, S3's
// error code in the attempt log, settings refused when added.
//
// s3rver checks that the access key exists (its only one is S3RVER) but
// not the signature, so every PUT is checked here, before s3rver sees
// it, by a SigV4 verifier of this file: the canonical request rebuilt
// from what arrived on the wire, the key derived from the secret, the
// signature compared. The algorithm itself is proven on AWS's published
// examples by tests/unit/test_sigv4.c.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import S3rver from "s3rver";

import { createDeveloper, stopAll, UUID_RE } from "./lib/ferry.mjs";
import {
  connectSandbox,
  deauthenticate,
  insertEvents,
  insertUsers,
  makeStore,
  showEvent,
  sql,
  startFerryOn,
  until,
} from "./lib/receiver.mjs";

const T = { timeout: 60000 };
const BUCKET = "ferry-events";
// s3rver's one account
const ACCESS_KEY = "S3RVER";
const SECRET_KEY = "S3RVER";
const REGION = "us-east-1";
const WAIT_MS = 20000;
const CLOCK_SKEW_S = 300;

const sha256hex = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, text) => createHmac("sha256", key).update(text).digest();

/* A path segment as SigV4 encodes it: RFC 3986 unreserved kept. */
function encodeSegment(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/*
 * Check the SigV4 Authorization of the request `req` (a node
 * IncomingMessage, body not read) made with `secret`: {ok, error}.
 */
function verifySigV4(req, secret) {
  const auth = req.headers.authorization ?? "";
  const m = new RegExp(
    "^AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/s3/aws4_request," +
      "\\s*SignedHeaders=([a-z0-9;-]+),\\s*Signature=([0-9a-f]{64})$",
  ).exec(auth);
  if (!m) {
    return { ok: false, error: `malformed Authorization: ${auth}` };
  }
  const [, , day, region, signed, signature] = m;
  const amzDate = req.headers["x-amz-date"] ?? "";
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day)) {
    return { ok: false, error: `x-amz-date ${amzDate} for day ${day}` };
  }
  const names = signed.split(";");
  for (const need of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!names.includes(need)) {
      return { ok: false, error: `${need} is not signed` };
    }
  }
  const sorted = [...names].sort();
  if (sorted.join(";") !== signed) {
    return { ok: false, error: `SignedHeaders not sorted: ${signed}` };
  }
  const url = new URL(req.url, "http://unused.invalid");
  const path = url.pathname
    .split("/")
    .map((s) => encodeSegment(decodeURIComponent(s)))
    .join("/");
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encodeSegment(k), encodeSegment(v)])
    .sort((a, b) => (`${a[0]}=${a[1]}` < `${b[0]}=${b[1]}` ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headers = names
    .map((n) => {
      const v = req.headers[n];
      const text = Array.isArray(v) ? v.join(",") : String(v ?? "");
      return `${n}:${text.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const creq = [
    req.method,
    path,
    query,
    headers,
    signed,
    req.headers["x-amz-content-sha256"],
  ].join("\n");
  const sts = [
    "AWS4-HMAC-SHA256",
    amzDate,
    `${day}/${region}/s3/aws4_request`,
    sha256hex(creq),
  ].join("\n");
  let k = hmac(`AWS4${secret}`, day);
  k = hmac(k, region);
  k = hmac(k, "s3");
  k = hmac(k, "aws4_request");
  const want = hmac(k, sts);
  const got = Buffer.from(signature, "hex");
  if (!timingSafeEqual(want, got)) {
    return { ok: false, error: `signature mismatch over:\n${creq}` };
  }
  return { ok: true, error: null };
}

/*
 * s3rver on 127.0.0.1 with a fresh directory and BUCKET made. Every
 * request is recorded in `requests` as {method, path (decoded), headers,
 * check ({ok, error}, or null without an Authorization), status} before
 * s3rver answers it.
 */
async function startS3() {
  const directory = mkdtempSync(join(tmpdir(), "ferry-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  const addr = await server.run();
  const http = server.httpServer;
  const [handler] = http.listeners("request");
  const requests = [];
  http.removeAllListeners("request");
  http.on("request", (req, res) => {
    const rec = {
      method: req.method,
      path: decodeURIComponent(new URL(req.url, "http://x").pathname),
      headers: req.headers,
      check:
        req.headers.authorization !== undefined
          ? verifySigV4(req, SECRET_KEY)
          : null,
      status: null,
    };
    requests.push(rec);
    res.on("finish", () => {
      rec.status = res.statusCode;
    });
    handler(req, res);
  });
  const base = `http://127.0.0.1:${addr.port}`;
  return {
    base,
    requests,
    puts: (key) =>
      requests.filter(
        (r) => r.method === "PUT" && r.path === `/${BUCKET}/${key}`,
      ),
    async get(key) {
      const res = await fetch(`${base}/${BUCKET}/${encodePath(key)}`, {
        signal: AbortSignal.timeout(10000),
      });
      return {
        status: res.status,
        type: res.headers.get("content-type"),
        bytes: Buffer.from(await res.arrayBuffer()),
      };
    },
    async put(key, text) {
      const res = await fetch(`${base}/${BUCKET}/${encodePath(key)}`, {
        method: "PUT",
        body: text,
        signal: AbortSignal.timeout(10000),
      });
      assert.equal(res.status, 200, await res.text());
    },
    async keys(prefix = "") {
      const res = await fetch(
        `${base}/${BUCKET}?prefix=${encodeURIComponent(prefix)}&max-keys=1000`,
        { signal: AbortSignal.timeout(10000) },
      );
      const xml = await res.text();
      assert.equal(res.status, 200, xml);
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((x) => x[1]);
    },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function encodePath(key) {
  return key.split("/").map(encodeSegment).join("/");
}

/* unix microseconds as the key's YYYYMMDDTHHMMSS.ffffffZ */
function keyTime(us) {
  const whole = new Date(Math.floor(us / 1000)).toISOString().slice(0, 19);
  const frac = String(us % 1000000).padStart(6, "0");
  return `${whole.replace(/[-:]/g, "")}.${frac}Z`;
}

/* The key of the stored event `row` ({id, type, user_id, created_at}). */
function keyOf(row, prefix = "") {
  const user = row.user_id ?? "none";
  const when = keyTime(Number(row.created_at));
  return `${prefix}${row.type}/${user}/${when}-${row.id}.json`;
}

/* The stored rows of the events `ids`, with created_at in microseconds. */
async function storedEvents(db, ids) {
  const list = ids.map((id) => `'${id}'`).join(",");
  const rows = await sql(
    db,
    "SELECT id, type, user_id, created_at, body FROM events" +
      ` WHERE id IN (${list}) ORDER BY created_at;`,
    { json: true },
  );
  assert.equal(rows.length, ids.length, "every event is stored");
  return rows;
}

/* `ferry destination add DEV s3 URL ...`, parsed. */
async function addS3(ferry, devId, url, keys = {}) {
  const out = await ferry.cli([
    "destination",
    "add",
    devId,
    "s3",
    url,
    "--access-key",
    keys.access ?? ACCESS_KEY,
    "--secret-key",
    keys.secret ?? SECRET_KEY,
    "--region",
    REGION,
    "--json",
  ]);
  return JSON.parse(out);
}

/* The deliveries of event `id` once all of them are in `state`. */
function allIn(ferry, id, state, n) {
  let last = null;
  return until(
    async () => {
      last = await showEvent(ferry, id);
      const ds = last.deliveries ?? [];
      return ds.length === n && ds.every((d) => d.state === state) ? ds : null;
    },
    WAIT_MS,
    `${n} deliveries of ${id} ${state}`,
    () => JSON.stringify(last),
  );
}

/* A ferry on a store of its own with s3rver beside it; runs fn(ctx). */
async function withS3(deliver, fn) {
  const store = makeStore();
  const ctx = { store };
  try {
    ctx.s3 = await startS3();
    ctx.ferry = await startFerryOn(store, { allowPrivate: true, deliver });
    ctx.dev = await createDeveloper(ctx.ferry, "s3-e2e");
    await fn(ctx);
  } finally {
    await stopAll(
      () => ctx.ferry?.stop(),
      () => ctx.s3?.stop(),
    );
    store.remove();
  }
}

/* Every request that carried a signature was signed right. */
function assertAllSigned(s3) {
  const signed = s3.requests.filter((r) => r.check !== null);
  assert.ok(signed.length > 0, "ferry sent signed requests");
  for (const r of signed) {
    assert.ok(r.check.ok, `${r.method} ${r.path}: ${r.check.error}`);
  }
}

describe("s3 delivery", () => {
  test("an object per event, its bytes, a replay overwrites", T, async () => {
    const deliver = { retry_base_seconds: 1, timeout_seconds: 5 };
    await withS3(deliver, async (ctx) => {
      const url = `${ctx.s3.base}/${BUCKET}`;
      const plain = await addS3(ctx.ferry, ctx.dev.dev_id, url);
      assert.match(plain.id, UUID_RE);
      const prefixed = await addS3(
        ctx.ferry,
        ctx.dev.dev_id,
        `${url}/archive/v1/`,
      );

      // the URL is shown without credentials, the prefix without its '/'
      const listed = JSON.parse(
        await ctx.ferry.cli(["destination", "list", "--json"]),
      );
      const byId = new Map(listed.map((d) => [d.id, d]));
      assert.equal(byId.get(plain.id)?.type, "s3");
      assert.equal(byId.get(plain.id)?.url, url);
      assert.equal(byId.get(prefixed.id)?.url, `${url}/archive/v1`);

      const [uid] = await insertUsers(ctx.store.db, ctx.dev.dev_id, 1);
      const made = await insertEvents(ctx.store.db, ctx.dev.dev_id, [
        { userId: uid, type: "activity" },
        { userId: uid, type: "sleep", reference: "ref-7" },
        { type: "healthcheck" },
      ]);
      // and events ferry recorded itself: a real login and its end
      const real = await connectSandbox(ctx.ferry, ctx.dev, "sam", "s-1");
      await deauthenticate(ctx.ferry, ctx.dev, real);
      const own = (await ctx.ferry.events()).filter((e) => e.user_id === real);
      assert.deepEqual(
        own.map((e) => e.type),
        ["auth", "deauth"],
        JSON.stringify(own),
      );
      const ids = [...made.map((e) => e.id), ...own.map((e) => e.id)];
      for (const id of ids) {
        await allIn(ctx.ferry, id, "delivered", 2);
      }
      const rows = await storedEvents(ctx.store.db, ids);

      for (const row of rows) {
        for (const prefix of ["", "archive/v1/"]) {
          const key = keyOf(row, prefix);
          const puts = ctx.s3.puts(key);
          assert.equal(puts.length, 1, `one PUT of ${key}`);
          assert.equal(puts[0].status, 200);
          assert.equal(
            puts[0].headers["x-amz-content-sha256"],
            sha256hex(Buffer.from(row.body, "utf8")),
            "the signed payload hash is the body's",
          );
          assert.equal(
            (puts[0].headers["content-type"] ?? "").split(";")[0],
            "application/json",
          );
          const got = await ctx.s3.get(key);
          assert.equal(got.status, 200, key);
          assert.equal(
            got.bytes.toString("hex"),
            Buffer.from(row.body, "utf8").toString("hex"),
            `${key} holds the stored bytes`,
          );
          assert.equal((got.type ?? "").split(";")[0], "application/json");
        }
      }
      assert.ok(
        keyOf(rows.find((r) => r.type === "healthcheck")).startsWith(
          "healthcheck/none/",
        ),
        "an event without a user is filed under none",
      );
      const before = (await ctx.s3.keys()).sort();
      assert.deepEqual(
        before,
        rows.flatMap((r) => [keyOf(r), keyOf(r, "archive/v1/")]).sort(),
        "exactly one object per event and destination",
      );
      assertAllSigned(ctx.s3);

      // spoil one object, replay its event: the same key is written again
      const target = rows[0];
      const key = keyOf(target);
      await ctx.s3.put(key, "spoilt");
      assert.equal((await ctx.s3.get(key)).bytes.toString(), "spoilt");
      await ctx.ferry.cli(["events", "replay", target.id]);
      await until(
        async () =>
          ctx.s3.puts(key).filter((r) => r.check !== null).length === 2 &&
          (await ctx.s3.get(key)).bytes.equals(
            Buffer.from(target.body, "utf8"),
          ),
        WAIT_MS,
        `the replay of ${target.id} overwriting ${key}`,
        () => JSON.stringify(ctx.s3.puts(key).map((r) => r.status)),
      );
      await allIn(ctx.ferry, target.id, "delivered", 2);
      assert.deepEqual(
        (await ctx.s3.keys()).sort(),
        before,
        "the replay added no object",
      );
      assertAllSigned(ctx.s3);
    });
  });

  test("an answer of S3's is recorded with its code", T, async () => {
    await withS3({ retry_base_seconds: 1, retries: 0 }, async (ctx) => {
      const secret = "not-the-secret-0123456789";
      await addS3(ctx.ferry, ctx.dev.dev_id, `${ctx.s3.base}/${BUCKET}`, {
        access: "NOSUCHKEY",
        secret,
      });
      const [ev] = await insertEvents(ctx.store.db, ctx.dev.dev_id, [
        { type: "activity" },
      ]);
      const [d] = await allIn(ctx.ferry, ev.id, "dead", 1);
      const log = d.attempt_log ?? [];
      assert.equal(log.length, 1, JSON.stringify(d));
      assert.equal(log[0].status, 403, JSON.stringify(log[0]));
      assert.match(log[0].error ?? "", /InvalidAccessKeyId/);
      assert.ok(!(log[0].error ?? "").includes(secret), "no secret");
      assert.ok(!ctx.ferry.stderr().includes(secret), "none in the log");
      assert.deepEqual(await ctx.s3.keys(), [], "nothing was stored");
    });
  });

  test("it has no signing secret: none shown, none to rotate", T, async () => {
    await withS3({}, async (ctx) => {
      const url = `${ctx.s3.base}/${BUCKET}`;
      const made = await addS3(ctx.ferry, ctx.dev.dev_id, url);
      assert.deepEqual(Object.keys(made), ["id"], JSON.stringify(made));

      const api = (path, body) =>
        fetch(`${ctx.ferry.baseUrl}/v2/destinations${path}`, {
          method: "POST",
          headers: {
            "dev-id": ctx.dev.dev_id,
            "x-api-key": ctx.dev.api_key,
            "content-type": "application/json",
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10000),
        });
      let res = await api("", {
        type: "s3",
        url,
        access_key: ACCESS_KEY,
        secret_key: SECRET_KEY,
        region: REGION,
      });
      let text = await res.text();
      assert.equal(res.status, 200, text);
      const viaApi = JSON.parse(text);
      assert.equal(viaApi.destination.type, "s3", text);
      assert.ok(!("secret" in viaApi), text);

      for (const id of [made.id, viaApi.destination.id]) {
        res = await api(`/${id}/rotate-secret`);
        text = await res.text();
        assert.equal(res.status, 409, text);
        assert.match(JSON.parse(text).message, /no secret to rotate/, text);
        await assert.rejects(
          ctx.ferry.cli(["destination", "rotate-secret", id]),
          /only webhooks are signed/,
        );
      }
    });
  });

  test("settings are checked when the destination is added", T, async () => {
    await withS3({}, async (ctx) => {
      const url = `${ctx.s3.base}/${BUCKET}`;
      const refused = async (args, field) => {
        await assert.rejects(
          ctx.ferry.cli(["destination", "add", ctx.dev.dev_id, "s3", ...args]),
          (err) => {
            // what ferry printed, not the command line the helper echoes
            const said = err.message.split("--- stderr ---")[1] ?? "";
            assert.match(said, field);
            assert.ok(!said.includes("hunter2-secret"), said);
            return true;
          },
        );
      };
      const keys = ["--secret-key", "hunter2-secret", "--region", REGION];
      await refused([url, ...keys], /access_key/);
      await refused(
        [url, "--access-key", ACCESS_KEY, "--region", REGION],
        /secret_key/,
      );
      await refused(
        [url, "--access-key", ACCESS_KEY, "--secret-key", "hunter2-secret"],
        /region/,
      );
      await refused(
        [`${ctx.s3.base}/Not_A_Bucket`, "--access-key", ACCESS_KEY, ...keys],
        /bucket/,
      );
      await refused(
        [`${ctx.s3.base}/`, "--access-key", ACCESS_KEY, ...keys],
        /bucket/,
      );
      await refused(
        [
          `http://k:s@127.0.0.1:1/${BUCKET}`,
          "--access-key",
          ACCESS_KEY,
          ...keys,
        ],
        /user-info/,
      );
      const listed = JSON.parse(
        await ctx.ferry.cli(["destination", "list", "--json"]),
      );
      assert.deepEqual(listed, [], "nothing was added");
    });
  });
});
