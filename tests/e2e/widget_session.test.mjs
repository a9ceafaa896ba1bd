// widget_session.test.mjs - POST /v2/auth/generateWidgetSession through
// the official Terra SDK (terra-api 2.1.0), as an application calls it,
// and the newer /widget/api/session paths by plain fetch.
//
// SDK facts this file relies on (read from node_modules/terra-api):
// - new TerraClient({ devId, apiKey, baseUrl }) joins baseUrl with
//   "auth/generateWidgetSession"; without baseUrl it would go to the
//   internet, so baseUrl is always given.
// - client.authentication.generatewidgetsession(request = {}) posts
//   JSON with Content-Type: application/json, and maps only 400 to
//   Terra.BadRequestError; a 401 from this call is a plain TerraError
//   with statusCode 401 (it never raises Terra.UnauthorizedError).
// - On an error status the SDK parses the body as JSON only when the
//   response's Content-Type is a JSON type; otherwise err.body is the
//   raw text. So err.body being an object is the SDK-level check that
//   our error Content-Type is right.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { Terra, TerraClient, TerraError } from "terra-api";

import { createDeveloper, startFerry } from "./lib/ferry.mjs";

const UUID_RE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{22,}$/;
const ERROR_KEYS = ["status", "message", "type", "title", "detail", "instance"];

let ferry;
let dev;

function client(apiKey = dev.api_key, devId = dev.dev_id) {
  return new TerraClient({
    devId,
    apiKey,
    baseUrl: `${ferry.baseUrl}/v2`,
  });
}

// What the SDK throws, or a failure if it does not throw.
async function sdkError(promise) {
  try {
    const r = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(r)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) {
      throw err;
    }
    return err;
  }
}

function assertSession(r, expiresIn = 900) {
  assert.equal(r.status, "success");
  assert.match(r.session_id, UUID_RE);
  assert.equal(typeof r.url, "string");
  const prefix = `${ferry.baseUrl}/widget/`;
  assert.ok(r.url.startsWith(prefix), `url ${r.url} starts with ${prefix}`);
  assert.match(r.url.slice(prefix.length), TOKEN_RE);
  assert.equal(r.expires_in, expiresIn);
}

function assertJsonType(headers) {
  const ct = headers.get("content-type") ?? "";
  assert.match(ct, /^application\/(problem\+)?json\b/i, `content-type ${ct}`);
}

async function post(path, { headers = {}, body } = {}) {
  const res = await fetch(`${ferry.baseUrl}${path}`, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`${path}: HTTP ${res.status}, body is not JSON: ${text}`);
  }
  return { res, json, text };
}

function goodHeaders(extra = {}) {
  return {
    "dev-id": dev.dev_id,
    "x-api-key": dev.api_key,
    "content-type": "application/json",
    ...extra,
  };
}

before(async () => {
  ferry = await startFerry();
  dev = await createDeveloper(ferry, "widget-e2e");
  assert.ok(dev.dev_id && dev.api_key && dev.key_id, JSON.stringify(dev));
});

after(async () => {
  if (ferry) {
    await ferry.stop();
  }
});

describe("generateWidgetSession through the SDK", () => {
  test("(a) full request: typed success", async () => {
    const r = await client().authentication.generatewidgetsession({
      reference_id: "user-42",
      providers: "SANDBOX",
      language: "en",
      auth_success_redirect_url: "https://app.example/ok",
      auth_failure_redirect_url: "https://app.example/fail",
    });
    assertSession(r);
  });

  test("(a) two sessions differ in id and token", async () => {
    const c = client();
    const r1 = await c.authentication.generatewidgetsession({
      reference_id: "user-42",
    });
    const r2 = await c.authentication.generatewidgetsession({
      reference_id: "user-42",
    });
    assertSession(r1);
    assertSession(r2);
    assert.notEqual(r1.session_id, r2.session_id);
    assert.notEqual(r1.url, r2.url);
  });

  test("(b) called with no request: success", async () => {
    // the SDK sends {} when called with nothing
    const r = await client().authentication.generatewidgetsession();
    assertSession(r);
  });

  test("(b) raw POST with no body at all: success", async () => {
    const { res, json } = await post("/v2/auth/generateWidgetSession", {
      headers: { "dev-id": dev.dev_id, "x-api-key": dev.api_key },
    });
    assert.equal(res.status, 200, JSON.stringify(json));
    assertJsonType(res.headers);
    assertSession(json);
  });

  test("(c) wrong api key: TerraError 401 with an error body", async () => {
    const err = await sdkError(
      client("fk_not-a-real-key").authentication.generatewidgetsession({
        reference_id: "user-42",
      }),
    );
    // this SDK method maps only 400; 401 arrives as a plain TerraError
    assert.ok(err instanceof TerraError, `got ${err}`);
    assert.ok(!(err instanceof Terra.UnauthorizedError));
    assert.equal(err.statusCode, 401);
    assert.equal(typeof err.body, "object", `body parsed: ${err.body}`);
    assert.equal(err.body.status, "error");
    assert.equal(typeof err.body.message, "string");
    assert.ok(err.body.message.length > 0);
    assertJsonType(err.rawResponse.headers);
  });

  test("(c) unknown dev id: TerraError 401", async () => {
    const err = await sdkError(
      client(dev.api_key, "dev_00000000000000000000")
        .authentication.generatewidgetsession(),
    );
    assert.ok(err instanceof TerraError, `got ${err}`);
    assert.equal(err.statusCode, 401);
    assert.equal(err.body.status, "error");
    assert.equal(typeof err.body.message, "string");
  });

  test("(e) unknown provider: BadRequestError naming it", async () => {
    const err = await sdkError(
      client().authentication.generatewidgetsession({
        providers: "NOTAPROVIDER",
      }),
    );
    assert.ok(err instanceof Terra.BadRequestError, `got ${err}`);
    assert.equal(err.statusCode, 400);
    assert.equal(err.body.status, "error");
    assert.match(err.body.message, /NOTAPROVIDER/);
    assert.match(err.body.message, /providers/);
  });

  test("(e) javascript: success URL: BadRequestError naming the field",
    async () => {
      const err = await sdkError(
        client().authentication.generatewidgetsession({
          auth_success_redirect_url: "javascript:alert(1)",
        }),
      );
      assert.ok(err instanceof Terra.BadRequestError, `got ${err}`);
      assert.equal(err.statusCode, 400);
      assert.equal(err.body.status, "error");
      assert.match(err.body.message, /auth_success_redirect_url/);
    });

  test("(f) a revoked key stops working on the next call", async () => {
    const k = JSON.parse(
      await ferry.cli(["key", "create", dev.dev_id, "--json"]),
    );
    assert.ok(k.key_id && k.api_key, JSON.stringify(k));
    const c = client(k.api_key);
    assertSession(await c.authentication.generatewidgetsession());

    await ferry.cli(["key", "revoke", k.key_id]);

    const err = await sdkError(c.authentication.generatewidgetsession());
    assert.ok(err instanceof TerraError, `got ${err}`);
    assert.equal(err.statusCode, 401);
    assert.equal(err.body.status, "error");
    // the developer's other key is untouched
    assertSession(await client().authentication.generatewidgetsession());
  });

  test("Content-Type: the SDK sends JSON and gets JSON back", async () => {
    const { data, rawResponse } = await client()
      .authentication.generatewidgetsession({ reference_id: "ct-check" })
      .withRawResponse();
    assertSession(data);
    assert.equal(rawResponse.status, 200);
    assertJsonType(rawResponse.headers);
    // and an error body comes back parsed, which the SDK does only for
    // a JSON Content-Type
    const err = await sdkError(
      client().authentication.generatewidgetsession({
        providers: "NOTAPROVIDER",
      }),
    );
    assert.equal(typeof err.body, "object", `body parsed: ${err.body}`);
    assertJsonType(err.rawResponse.headers);
  });
});

describe("raw requests", () => {
  test("(d) no dev-id: 401 with the Terra and RFC 7807 keys", async () => {
    const { res, json } = await post("/v2/auth/generateWidgetSession", {
      headers: { "x-api-key": dev.api_key, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 401, JSON.stringify(json));
    assertJsonType(res.headers);
    for (const k of ERROR_KEYS) {
      assert.ok(k in json, `key ${k} in ${JSON.stringify(json)}`);
    }
    assert.equal(json.status, "error");
    assert.equal(json.type, "about:blank");
    assert.equal(typeof json.message, "string");
    assert.equal(typeof json.title, "string");
    assert.equal(typeof json.detail, "string");
    assert.match(json.instance, /^\/v2\/auth\/generateWidgetSession/);
  });

  test("(d) header names match without regard to case", async () => {
    const { res, json } = await post("/v2/auth/generateWidgetSession", {
      headers: {
        "Dev-Id": dev.dev_id,
        "X-API-Key": dev.api_key,
        "Content-Type": "application/json",
      },
      body: "{}",
    });
    assert.equal(res.status, 200, JSON.stringify(json));
    assertSession(json);
  });

  for (const path of ["/widget/api/session", "/api/widget/session"]) {
    test(`(g) ${path}: success with good credentials`, async () => {
      const { res, json } = await post(path, {
        headers: goodHeaders(),
        body: JSON.stringify({
          reference_id: "user-7",
          providers: "SANDBOX",
          language: "en",
        }),
      });
      assert.equal(res.status, 200, JSON.stringify(json));
      assertJsonType(res.headers);
      assertSession(json);
    });

    test(`(g) ${path}: 403 JSON with a wrong key`, async () => {
      const { res, json } = await post(path, {
        headers: goodHeaders({ "x-api-key": "fk_wrong" }),
        body: "{}",
      });
      assert.equal(res.status, 403, JSON.stringify(json));
      assertJsonType(res.headers);
      assert.equal(json.status, "error");
      assert.equal(typeof json.message, "string");
      assert.ok(json.message.length > 0);
      for (const k of ERROR_KEYS) {
        assert.ok(k in json, `key ${k} in ${JSON.stringify(json)}`);
      }
      assert.equal(json.instance, path);
    });

    test(`(g) ${path}: 403 JSON with no credentials`, async () => {
      const { res, json } = await post(path, {
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(res.status, 403, JSON.stringify(json));
      assertJsonType(res.headers);
      assert.equal(json.status, "error");
      assert.equal(typeof json.message, "string");
    });
  }
});
