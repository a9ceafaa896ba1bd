// ferry.mjs - start a ferry server for one end-to-end test file.
//
//   import { startFerry } from "./lib/ferry.mjs";
//   const f = await startFerry();          // [provider sandbox] by default
//   after(() => f.stop());
//   f.baseUrl                              // http://127.0.0.1:PORT
//   await f.cli(["developer", "create", "acme", "--json"])  // stdout
//
// The binary is $TEST_FERRY_BIN (default ../../ferry from this directory,
// i.e. the release build at the top of the tree). The child gets the
// test's environment without any FERRY_* variable (ferry refuses unknown
// ones), plus exactly the FERRY_* variables passed in `env`.

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
 * options.env      FERRY_* (or other) variables for the child
 * options.args     extra arguments after `serve --config FILE`
 */
export async function startFerry(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ferry-e2e-"));
  const confPath = join(dir, "ferry.conf");
  const text = options.replaceConfig
    ? options.replaceConfig(dir)
    : defaultConfig(dir) + (options.config ? `\n${options.config}\n` : "");
  writeFileSync(confPath, text, { mode: 0o600 });
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

  return {
    baseUrl: `http://${addr}`,
    addr,
    dir,
    confPath,
    stop,
    cli,
    stderr: () => stderr,
    stdout: () => stdout,
  };
}

// `ferry developer create NAME --json`, parsed.
export async function createDeveloper(ferry, name = "e2e") {
  const out = await ferry.cli(["developer", "create", name, "--json"]);
  return JSON.parse(out);
}
