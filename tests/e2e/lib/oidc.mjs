// oidc.mjs - a real OpenID Connect provider (npm oidc-provider) on
// 127.0.0.1, as the identity provider behind ferry's generic
// `type = oauth2` provider.
//
//   import { startOidc } from "./lib/oidc.mjs";
//   const oidc = await startOidc();        // listening, not configured yet
//   ... start ferry with oidc.url("/auth") etc. in its config ...
//   await oidc.configure({ redirectUris: [`${ferry.baseUrl}/callback/oidc`] });
//   after(() => oidc.stop());
//
// Why two steps: the provider validates the redirect URI exactly, ferry's
// port is known only once ferry runs, and ferry needs this server's port
// in its config. So the HTTP listener starts first (answering 503 until
// configured) and the Provider is built once ferry's callback URL is
// known.
//
// The provider uses oidc-provider's built-in development interactions: a
// login form (fields `login` and `password`; any values are accepted,
// the login becomes the account id and the `sub`), then a consent page
// with a "Continue" button; both pages have a "[ Cancel ]" link that
// ends the request with error=access_denied. PKCE (S256) is required and
// the one client authenticates with client_secret_basic.
//
// Everything the provider receives is recorded in `requests` (method,
// path, query, headers, form body as the provider parsed it, status), so
// a test can check what ferry sent.
// `onAuthorize` may be set to a function(URLSearchParams) that edits the
// authorize request's query before the provider reads it (to tamper with
// `state`, for example).

import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";

import Provider from "oidc-provider";

export const CLIENT_ID = "ferry-test";

// The S256 PKCE challenge of a verifier (RFC 7636 4.2).
export function pkceChallenge(verifier) {
  return createHash("sha256").update(verifier).digest("base64url");
}

/*
 * Start the HTTP listener. Returns an object with:
 *   issuer          http://127.0.0.1:PORT
 *   url(path)       issuer + path
 *   clientId, clientSecret
 *   configure({ redirectUris })  build the Provider; once only
 *   requests        what arrived (see above); hits(path) those to one path
 *   notices         oidc-provider's start-up warnings, kept out of the log
 *   onAuthorize     null, or a hook as described above
 *   stop()
 */
export async function startOidc(options = {}) {
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("hex");
  const requests = [];
  const notices = [];
  let provider = null;
  let handler = null;

  const state = {
    issuer: null,
    onAuthorize: null,
  };

  const server = createServer((req, res) => {
    if (handler === null) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("provider not configured yet\n");
      return;
    }
    handler(req, res);
  });
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolveListen);
  });
  state.issuer = `http://127.0.0.1:${server.address().port}`;

  function configure({ redirectUris }) {
    if (provider !== null) {
      throw new Error("oidc: configure() called twice");
    }
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test" };
    const config = {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          response_types: ["code"],
          grant_types: ["authorization_code"],
          token_endpoint_auth_method: "client_secret_basic",
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: [randomBytes(32).toString("hex")] },
      pkce: { methods: ["S256"], required: () => true },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        Grant: 3600,
        IdToken: 600,
        Interaction: 600,
        Session: 3600,
      },
      claims: {
        openid: ["sub"],
        profile: ["name", "preferred_username"],
      },
      features: {
        devInteractions: { enabled: true },
        revocation: { enabled: true },
        userinfo: { enabled: true },
      },
      async findAccount(ctx, sub) {
        return {
          accountId: sub,
          async claims() {
            return { sub, name: `Test ${sub}`, preferred_username: sub };
          },
        };
      },
    };
    // The provider prints notices about development-only settings (the
    // built-in interactions) at construction; keep them out of the test
    // log but available.
    const { warn, info } = console;
    console.warn = (...a) => notices.push(a.join(" "));
    console.info = (...a) => notices.push(a.join(" "));
    try {
      provider = new Provider(state.issuer, config);
    } finally {
      console.warn = warn;
      console.info = info;
    }
    // The development pages import a web font from the internet; this
    // provider must cause no traffic beyond 127.0.0.1, so the import is
    // cut from every page it renders.
    provider.use(async (ctx, next) => {
      if (ctx.path === "/auth" && typeof state.onAuthorize === "function") {
        const q = new URLSearchParams(ctx.querystring);
        state.onAuthorize(q);
        ctx.querystring = q.toString();
      }
      const entry = {
        at: Date.now(),
        method: ctx.method,
        path: ctx.path,
        query: Object.fromEntries(new URLSearchParams(ctx.querystring)),
        headers: { ...ctx.headers },
        form: {},
        status: null,
      };
      requests.push(entry);
      try {
        await next();
      } finally {
        // the provider's own parser leaves the form body here
        const body = ctx.oidc?.body;
        if (body && typeof body === "object") {
          entry.form = { ...body };
        }
        entry.status = ctx.status;
      }
      if (typeof ctx.body === "string" && /html/.test(ctx.type)) {
        ctx.body = ctx.body.replace(/@import url\([^)]*\);?/g, "");
      }
    });
    provider.on("server_error", (ctx, err) => {
      notices.push(`server_error: ${err?.stack ?? err}`);
    });
    handler = provider.callback();
  }

  async function stop() {
    await new Promise((resolveClose) => {
      server.close(() => resolveClose());
      for (const s of sockets) {
        s.destroy();
      }
    });
  }

  return {
    get issuer() {
      return state.issuer;
    },
    url(path) {
      return `${state.issuer}${path}`;
    },
    clientId: CLIENT_ID,
    clientSecret,
    configure,
    requests,
    notices,
    get onAuthorize() {
      return state.onAuthorize;
    },
    set onAuthorize(fn) {
      state.onAuthorize = fn;
    },
    // Requests to one path, e.g. oidc.hits("/token").
    hits(path) {
      return requests.filter((r) => r.path === path);
    },
    stop,
  };
}

// The INI section for ferry's generic provider pointed at `oidc`.
export function oidcSection(oidc, name = "oidc", overrides = {}) {
  const keys = {
    type: "oauth2",
    client_id: oidc.clientId,
    client_secret: oidc.clientSecret,
    authorize_url: oidc.url("/auth"),
    token_url: oidc.url("/token"),
    userinfo_url: oidc.url("/me"),
    revoke_url: oidc.url("/token/revocation"),
    user_id_field: "sub",
    scopes: "openid profile",
    pkce: "S256",
    auth_method: "client_secret_basic",
    ...overrides,
  };
  return [
    `[provider ${name}]`,
    ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
}

// On the provider's login page (where `page` is, or is being sent): log
// in as `login` (any password works).
export async function oidcLogin(page, oidc, login) {
  await page.waitForURL(
    (u) => u.origin === oidc.issuer && u.pathname.startsWith("/interaction/"),
  );
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
}

// On the consent page: grant ("Continue").
export async function oidcConsent(page) {
  await page.getByRole("button", { name: "Continue" }).click();
}

// On the login or consent page: the "[ Cancel ]" link (access_denied).
export async function oidcCancel(page) {
  await page.getByRole("link", { name: "[ Cancel ]" }).click();
}
