// ferry.mjs - start a ferry server for one end-to-end test file.
//
//   import { startFerry } from "./lib/ferry.mjs";
//   const f = await startFerry();          // [provider sandbox] by default
//   after(() => f.stop());
//   f.baseUrl                              // http://127.0.0.1:PORT
//   await f.cli(["developer", "create", "acme", "--json"])  // stdout
//   await f.events()                       // `events list --json`, parsed
//
// The binary is $TEST_FERRY_BIN (default ../../ferry from this directory,
// i.e. the release build at the top of the tree). The child gets the
// test's environment without any FERRY_* variable (ferry refuses unknown
// ones), plus exactly the FERRY_* variables passed in `env`.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { TerraClient } from "terra-api";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");

export const ferryBin = resolve(
  process.env.TEST_FERRY_BIN || join(here, "../../../ferry"),
);

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;
const CLI_TIMEOUT_MS = 15000;

// What in a child's stderr means the build's sanitizers found a fault.
const SANITIZER_MARKS = [
  "ERROR: AddressSanitizer",
  "runtime error:",
  "LeakSanitizer",
];

// Children still running; killed if the test process goes away first.
const live = new Set();

process.on("exit", () => {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    process.exit(128 + (sig === "SIGINT" ? 2 : 15));
  });
}

// The environment for a child: ours without FERRY_*, plus `extra`.
export function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("FERRY_")) {
      env[k] = v;
    }
  }
  // the sanitizer settings `make check` uses, unless the caller set some
  env.ASAN_OPTIONS ??= "detect_leaks=1:abort_on_error=0:halt_on_error=1";
  env.UBSAN_OPTIONS ??= "print_stacktrace=1:halt_on_error=1";
  env.LSAN_OPTIONS ??= `suppressions=${join(root, "tests/lsan.supp")}`;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) {
      delete env[k];
    } else {
      env[k] = String(v);
    }
  }
  return env;
}

export function sanitizerReport(text) {
  return SANITIZER_MARKS.find((m) => text.includes(m)) ?? null;
}

function defaultConfig(dir) {
  return [
    "[server]",
    "listen = 127.0.0.1:0",
    "",
    "[store]",
    `url = sqlite:${join(dir, "ferry.db")}`,
    "",
    "[security]",
    `key_file = ${join(dir, "ferry.key")}`,
    "",
    "[provider sandbox]",
    "",
  ].join("\n");
}

/*
 * Start `ferry serve --config DIR/ferry.conf`.
 *
 * options.config   extra INI text appended to the default config
 * options.replaceConfig  function(dir) -> whole INI text, instead
 * options.configFile  an INI file to copy in as the whole config, instead
 * options.env      FERRY_* (or other) variables for the child
 * options.args     extra arguments after `serve --config FILE`
 */
export async function startFerry(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ferry-e2e-"));
  const confPath = join(dir, "ferry.conf");
  if (options.configFile) {
    copyFileSync(options.configFile, confPath);
  } else {
    const text = options.replaceConfig
      ? options.replaceConfig(dir)
      : defaultConfig(dir) + (options.config ? `\n${options.config}\n` : "");
    writeFileSync(confPath, text, { mode: 0o600 });
  }
  const env = childEnv(options.env);

  const child = spawn(
    ferryBin,
    ["serve", "--config", confPath, ...(options.args ?? [])],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  live.add(child);

  let stderr = "";
  let stdout = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (d) => {
    stdout += d;
  });

  const exited = new Promise((resolveExit) => {
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolveExit({ code, signal });
    });
  });
  // spawn errors (no such binary) surface as an exit with a message
  let spawnError = null;
  child.on("error", (err) => {
    spawnError = err;
    live.delete(child);
  });

  const addr = await new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `ferry did not log event=listening within ${START_TIMEOUT_MS} ms` +
            `\n--- stderr ---\n${stderr}`,
        ),
      );
    }, START_TIMEOUT_MS);
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = /event=listening addr=(127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolveAddr(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `ferry exited before listening (code ${code}, signal ${signal}` +
            `${spawnError ? `, ${spawnError.message}` : ""})` +
            `\n--- stderr ---\n${stderr}`,
        ),
      );
    });
  });

  let stopped = null;

  async function stop() {
    if (stopped) {
      return stopped;
    }
    stopped = (async () => {
      if (live.has(child)) {
        child.kill("SIGTERM");
      }
      let timer;
      const r = await Promise.race([
        exited,
        new Promise((res) => {
          timer = setTimeout(() => res(null), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (r === null) {
        child.kill("SIGKILL");
        await exited;
        throw new Error(
          `ferry did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM` +
            `\n--- stderr ---\n${stderr}`,
        );
      }
      const mark = sanitizerReport(stderr);
      if (r.code !== 0 || mark) {
        throw new Error(
          `ferry stopped badly (code ${r.code}, signal ${r.signal}` +
            `${mark ? `, found "${mark}"` : ""})\n--- stderr ---\n${stderr}`,
        );
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  }

  // Run `ferry ARGS --config FILE` against the same config; its stdout.
  function cli(args, cliOptions = {}) {
    return new Promise((resolveCli, reject) => {
      execFile(
        ferryBin,
        [...args, "--config", confPath],
        {
          env: childEnv({ ...options.env, ...cliOptions.env }),
          timeout: CLI_TIMEOUT_MS,
          maxBuffer: 16 << 20,
          encoding: "utf8",
        },
        (err, out, errText) => {
          const mark = sanitizerReport(errText);
          if (err || mark) {
            const how = err
              ? `code ${err.code}${err.killed ? " (killed: timeout)" : ""}`
              : `found "${mark}"`;
            reject(
              new Error(
                `ferry ${args.join(" ")} failed: ${how}` +
                  `\n--- stdout ---\n${out}\n--- stderr ---\n${errText}`,
              ),
            );
            return;
          }
          resolveCli(out);
        },
      );
    });
  }

  // `ferry events list --json --type T`, parsed.
  async function eventsOfType(type) {
    const out = await cli(["events", "list", "--json", "--type", type,
      "--limit", "100000"]);
    let list;
    try {
      list = JSON.parse(out);
    } catch {
      throw new Error(`ferry events list --json: not JSON:\n${out}`);
    }
    if (!Array.isArray(list)) {
      throw new Error(`ferry events list --json: not an array:\n${out}`);
    }
    return list;
  }

  // The account events (auth, user_reauth, deauth, connection_error,
  // access_revoked), oldest first. Data events (a connected SANDBOX
  // user's backfill) are left out: they are many and large.
  async function events() {
    const all = [];
    for (const t of ["auth", "user_reauth", "deauth", "connection_error",
      "access_revoked"]) {
      all.push(...(await eventsOfType(t)));
    }
    return all.sort((a, b) => a.seq - b.seq);
  }

  return {
    baseUrl: `http://${addr}`,
    addr,
    dir,
    confPath,
    stop,
    cli,
    events,
    stderr: () => stderr,
    stdout: () => stdout,
  };
}

// `ferry developer create NAME --json`, parsed.
export async function createDeveloper(ferry, name = "e2e") {
  const out = await ferry.cli(["developer", "create", name, "--json"]);
  return JSON.parse(out);
}

// A Terra SDK client for developer `dev` ({dev_id, api_key}) of `ferry`.
export function terraClient(ferry, dev) {
  return new TerraClient({
    devId: dev.dev_id,
    apiKey: dev.api_key,
    baseUrl: `${ferry.baseUrl}/v2`,
  });
}

// What `promise` rejects with; an Error of its own if it resolves.
export async function sdkError(promise) {
  let value;
  try {
    value = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`expected an error, got ${JSON.stringify(value)}`);
}

const EVENTS_WAIT_MS = 5000;
const EVENTS_POLL_MS = 100;

/*
 * Poll `ferry.events()` until `pred(list)` is true; the list. After
 * `timeoutMs` the last list is returned anyway, so the caller's
 * assertions say what is missing.
 */
export async function waitForEvents(ferry, pred, timeoutMs = EVENTS_WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let list = await ferry.events();
  while (!pred(list) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, EVENTS_POLL_MS));
    list = await ferry.events();
  }
  return list;
}

/*
 * GET (or another method) without following redirects; the status,
 * headers and body text. A bounded wait: a server that does not answer
 * fails the test instead of hanging it.
 */
export async function request(url, options = {}) {
  const { timeoutMs = 10000, ...init } = options;
  const res = await fetch(url, {
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
    ...init,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, res };
}

// Browser steps on ferry's own pages. `page` is a Playwright page.

// On the hosted widget: press the button of `resource` ("OIDC").
export async function pickProvider(page, resource) {
  await page
    .locator(`form button[type="submit"][name="resource"][value="${resource}"]`)
    .click();
}

// On the SANDBOX login form (where `page` is, or is being sent): sign in
// as `username` (any name makes an account; the same name is the same
// account). Enter submits, whatever the button says.
export async function sandboxLogin(page, ferry, username) {
  await page.waitForURL(
    (u) =>
      u.origin === ferry.baseUrl && u.pathname.startsWith("/sandbox/"),
  );
  const field = page.locator('input[name="username"]');
  await field.fill(username);
  await field.press("Enter");
}

// On the SANDBOX consent page: "allow" or "deny".
export async function sandboxDecide(page, decision) {
  const name = decision === "allow" ? /^\s*allow\s*$/i : /^\s*deny\s*$/i;
  await page
    .locator(`button[value="${decision}"]`)
    .or(page.getByRole("button", { name }))
    .first()
    .click();
}

// What the tests expect of values on the wire.
export const UUID_RE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// ISO-8601 with microseconds and a numeric offset, as Terra sends:
// 2026-03-01T07:30:00.000000+01:00
export const ISO_US_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}$/;

/*
 * Check a TerraUser object: its fields and their types, and the values
 * given in `want` (userId, provider, referenceId, active).
 */
export function assertTerraUser(u, want = {}) {
  assert.equal(typeof u, "object", `user: ${JSON.stringify(u)}`);
  assert.ok(u !== null, "user is not null");
  assert.match(u.user_id, UUID_RE);
  if (want.userId !== undefined) {
    assert.equal(u.user_id, want.userId);
  }
  if (want.provider !== undefined) {
    assert.equal(u.provider, want.provider);
  }
  if (want.referenceId !== undefined) {
    assert.equal(u.reference_id, want.referenceId);
  }
  if (want.active !== undefined) {
    assert.equal(u.active, want.active);
  }
  assert.ok(
    u.scopes === null || typeof u.scopes === "string",
    `scopes: ${JSON.stringify(u.scopes)}`,
  );
  assert.match(u.created_at, ISO_US_RE, `created_at ${u.created_at}`);
  assert.ok("last_webhook_update" in u, "last_webhook_update is sent");
  assert.ok(
    u.last_webhook_update === null || ISO_US_RE.test(u.last_webhook_update),
    `last_webhook_update: ${u.last_webhook_update}`,
  );
}

// The stored events of `type` whose body matches `pred`.
export function eventsOf(list, type, pred = () => true) {
  return list.filter((e) => e.type === type && pred(e.body ?? {}, e));
}

/*
 * Check one row of `ferry events list --json`: its columns, and that
 * the body is an object of the row's type carrying the row's id.
 */
export function assertEventRow(row, dev) {
  assert.match(row.id, UUID_RE, `event id ${row.id}`);
  assert.equal(typeof row.type, "string");
  assert.equal(row.dev_id, dev.dev_id);
  assert.ok(!Number.isNaN(Date.parse(row.created_at)), row.created_at);
  assert.equal(typeof row.body, "object", `body: ${JSON.stringify(row)}`);
  assert.equal(row.body.type, row.type);
  assert.equal(row.body.ferry?.event_id, row.id);
}

// Run every stop function, all of them, then throw the first failure.
export async function stopAll(...stops) {
  let first = null;
  for (const stop of stops) {
    try {
      await stop?.();
    } catch (err) {
      first ??= err;
    }
  }
  if (first) {
    throw first;
  }
}
