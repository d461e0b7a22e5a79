// A real OpenID Connect provider for the tests: panva's `oidc-provider`, run by Node on
// loopback, shaped like ProConnect (the French public services' sign-in). Started and
// stopped by tests/support/oidc.py. Driven by one JSON argument:
//
//   {port: 0, host: "127.0.0.1",
//    client: {client_id, client_secret, redirect_uris: [...], post_logout_redirect_uris: [...],
//             token_endpoint_auth_method: "client_secret_basic" | "client_secret_post"},
//    accounts: {"email": {given_name, usual_name, email, uid, siret, organizational_unit?, ...}},
//    scopes: {"scope": ["claim", ...]},   // more scopes, beside the ones below
//    jwk: {...},                          // the private RSA signing key; generated if absent
//    exit_with_stdin: true}               // stop when stdin closes (the test process died)
//
// When it listens it prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}; the
// discovery document is at ISSUER/.well-known/openid-configuration.
//
// What it does, as ProConnect does: authorization code only, PKCE (S256) required, a
// confidential client, an RS256 ID token carrying the account's claims for the granted
// scopes (`conformIdTokenClaims: false`), RP-initiated logout. An account's `sub` is its own
// `sub` claim if it has one, else sha256(lowercased email) in hex, first 32 characters.
//
// Pages (no dev interactions):
//   GET  /interaction/:uid        a form with one field, `email` (labelled); when the person
//                                 is already signed in and only consent is missing, consent
//                                 is granted at once (303 onwards)
//   POST /interaction/:uid/login  email=...: signs that account in and grants every requested
//                                 scope (303 onwards); an unknown email: 400 page;
//                                 cancel=yes: ends the request with access_denied
//   GET  /session/end?...         the logout confirmation: a form (action, hidden `xsrf`);
//                                 POST its hidden fields plus `logout=yes` to its action to
//                                 sign out (without `logout=yes`: only this client's grant
//                                 goes); then 303 to post_logout_redirect_uri (with `state`)
//                                 or to the provider's "Signed out" page
// Test controls (JSON bodies, 204 answers):
//   POST /__test/tamper    {"mode": "audience" | "expired" | "foreign_key" | "nonce" | "none"}
//                          the NEXT token response carries a doctored ID token, re-signed:
//                          audience: aud "someone-else"; expired: exp one hour ago and iat
//                          its lifetime before; nonce: another nonce (all three with the real
//                          key); foreign_key: claims untouched, signed by another RSA key
//                          under the same kid. "none": back to normal.
//   POST /__test/accounts  {"email": ..., "claims": {...}}: adds or replaces an account
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { load } from "./deps.mjs";

const { default: Provider } = await load("oidc-provider");
const jose = await load("jose");

const config = JSON.parse(process.argv[2] ?? "{}");
const ALG = "RS256";

// ProConnect's claims, each its own scope as there, and gathered under `profile` so that
// `openid email profile` asks for them all.
const IDENTITY = [
  "given_name",
  "usual_name",
  "uid",
  "siret",
  "organizational_unit",
  "belonging_population",
  "phone",
  "idp_id",
];
const CLAIMS = {
  openid: ["sub"],
  email: ["email", "email_verified"],
  profile: [...IDENTITY, "family_name", "name"],
  ...Object.fromEntries(IDENTITY.map((claim) => [claim, [claim]])),
  ...(config.scopes ?? {}),
};

// -- accounts ------------------------------------------------------------------------------

const accounts = new Map(); // sub -> claims
const subjects = new Map(); // lowercased email -> sub

function subjectOf(email, claims) {
  return claims.sub ?? createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 32);
}

function addAccount(email, claims) {
  const sub = subjectOf(email, claims);
  const previous = subjects.get(email.toLowerCase());
  if (previous) accounts.delete(previous);
  subjects.set(email.toLowerCase(), sub);
  accounts.set(sub, { email, ...claims, sub });
}

for (const [email, claims] of Object.entries(config.accounts ?? {})) addAccount(email, claims);

async function findAccount(_ctx, sub) {
  const claims = accounts.get(sub);
  return claims && { accountId: sub, claims: async () => ({ ...claims }) };
}

// -- keys ----------------------------------------------------------------------------------

async function newRsaJwk(kid) {
  const { privateKey } = await jose.generateKeyPair(ALG, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: ALG, use: "sig" };
}

const signingJwk = config.jwk ?? (await newRsaJwk(`test-${randomBytes(4).toString("hex")}`));
const signingKey = await jose.importJWK(signingJwk, ALG);
// Another key under the same kid: a token it signs names the right key and fails its check.
const foreignKey = await jose.importJWK(await newRsaJwk(signingJwk.kid), ALG);

// -- tampering -----------------------------------------------------------------------------

const TAMPERING = new Set(["audience", "expired", "foreign_key", "nonce", "none"]);
let tamper = "none";

async function doctored(idToken, mode) {
  const header = jose.decodeProtectedHeader(idToken);
  const claims = jose.decodeJwt(idToken);
  if (mode === "audience") claims.aud = "someone-else";
  if (mode === "nonce") claims.nonce = `not-${claims.nonce ?? "a-nonce"}`;
  if (mode === "expired") {
    const lifetime = claims.exp - claims.iat;
    claims.exp = Math.floor(Date.now() / 1000) - 3600;
    claims.iat = claims.exp - lifetime;
  }
  const key = mode === "foreign_key" ? foreignKey : signingKey;
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

// -- pages ---------------------------------------------------------------------------------

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(title)} — test provider</title></head>
<body><main><h1>${escape(title)}</h1>
${body}
</main></body>
</html>`;
}

function loginForm(uid) {
  return page(
    "Sign in",
    `<form method="post" action="/interaction/${escape(uid)}/login">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus>
<button type="submit">Sign in</button>
<button type="submit" name="cancel" value="yes" formnovalidate>Cancel</button>
</form>`,
  );
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// A grant of every scope the client asked for (and every claim consent found missing).
async function grantAll(provider, details, accountId) {
  const { params, prompt } = details;
  const grant =
    details.grantId && details.session?.accountId === accountId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope ?? "openid");
  const claims = prompt.details?.missingOIDCClaims ?? [];
  if (claims.length) grant.addOIDCClaims(claims);
  return grant.save();
}

async function finish(ctx, provider, result) {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

async function interaction(ctx, provider) {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return false;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET" && !match[2]) {
    if (details.prompt.name === "consent" && details.session?.accountId) {
      const grantId = await grantAll(provider, details, details.session.accountId);
      await finish(ctx, provider, { consent: { grantId } });
    } else {
      ctx.type = "html";
      ctx.body = loginForm(details.uid);
    }
    return true;
  }
  if (ctx.method === "POST" && match[2]) {
    const form = new URLSearchParams(await readBody(ctx.req));
    if (form.get("cancel") === "yes") {
      const error = { error: "access_denied", error_description: "sign-in cancelled" };
      await finish(ctx, provider, error);
      return true;
    }
    const email = (form.get("email") ?? "").trim();
    const accountId = subjects.get(email.toLowerCase());
    if (!accountId) {
      ctx.status = 400;
      ctx.type = "html";
      ctx.body = page("Unknown account", `<p>No account has the address ${escape(email)}.</p>`);
      return true;
    }
    const grantId = await grantAll(provider, details, accountId);
    await finish(ctx, provider, { login: { accountId }, consent: { grantId } });
    return true;
  }
  return false;
}

async function testControl(ctx) {
  if (ctx.method !== "POST") return false;
  const body = JSON.parse((await readBody(ctx.req)) || "{}");
  if (ctx.path === "/__test/tamper" && TAMPERING.has(body.mode)) {
    tamper = body.mode;
  } else if (ctx.path === "/__test/accounts" && body.email && body.claims) {
    addAccount(body.email, body.claims);
  } else {
    ctx.status = 400;
    ctx.body = { error: `bad test control: ${ctx.path} ${JSON.stringify(body)}` };
    return true;
  }
  ctx.status = 204;
  return true;
}

async function logoutSource(ctx, form) {
  ctx.body = page(
    "Sign out?",
    `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page("Signed out", "<p>You are signed out of the test provider.</p>");
}

async function renderError(ctx, out) {
  ctx.type = "html";
  const lines = Object.entries(out).map(([k, v]) => `<p>${escape(k)}: ${escape(v)}</p>`);
  ctx.body = page("Error", lines.join("\n"));
}

// -- the provider --------------------------------------------------------------------------

function configuration() {
  const client = config.client ?? {};
  return {
    clients: [
      {
        client_id: client.client_id ?? "relais",
        client_secret: client.client_secret ?? "relais-test-secret",
        redirect_uris: client.redirect_uris ?? [],
        post_logout_redirect_uris: client.post_logout_redirect_uris ?? [],
        token_endpoint_auth_method: client.token_endpoint_auth_method ?? "client_secret_basic",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        id_token_signed_response_alg: ALG,
      },
    ],
    claims: CLAIMS,
    scopes: Object.keys(CLAIMS),
    conformIdTokenClaims: false,
    findAccount,
    jwks: { keys: [signingJwk] },
    pkce: { required: () => true },
    responseTypes: ["code"],
    cookies: { keys: [randomBytes(32).toString("hex")] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    renderError,
    // Short, but far longer than any test takes on a busy machine.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 120,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  };
}

const server = createServer();
server.listen(config.port ?? 0, config.host ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  const issuer = `http://${address}:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.on("server_error", (_ctx, err) => console.error("oidc-provider server_error:", err));
  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith("/__test/") && (await testControl(ctx))) return;
    if (ctx.path.startsWith("/interaction/") && (await interaction(ctx, provider))) return;
    await next();
    if (ctx.path === "/token" && ctx.status === 200 && ctx.body?.id_token && tamper !== "none") {
      ctx.body = { ...ctx.body, id_token: await doctored(ctx.body.id_token, tamper) };
      tamper = "none";
    }
  });
  server.on("request", provider.callback());
  console.log(JSON.stringify({ issuer }));
});

const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (config.exit_with_stdin) {
  process.stdin.on("end", stop);
  process.stdin.resume();
}
