// A real OpenID Connect provider for the Traguardi end-to-end tests.
//
// It wraps the certified `oidc-provider` library (pinned in ../package.json)
// with a fixed configuration: one confidential client for the app under test,
// a handful of known accounts, and the library's built-in "dev interactions"
// (login + consent HTML pages) so that Playwright can sign in through a real
// browser flow: authorization code + PKCE, token endpoint with
// client_secret_basic, userinfo, and RP-initiated logout.
//
// THIS IS A TEST FIXTURE. It accepts any password, keeps everything in
// memory and generates a fresh signing key at every start. Never expose it.
//
// Usage:   node end2end/oidc/provider.mjs
// Env:
//   OIDC_PORT     port to listen on (default 3101); the issuer is
//                 http://127.0.0.1:<port>
//   APP_URL       base URL of the app under test (default
//                 http://127.0.0.1:3100); used for the registered
//                 redirect and post-logout URIs
//   OIDC_CONFORM  "default" (or unset) | "true" | "false": value of the
//                 library's `conformIdTokenClaims` option (see below)
//
// It prints "oidc-provider ready at <issuer>" on stdout once it accepts
// connections, and exits cleanly on SIGTERM / SIGINT.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

// Loopback only: the tests run the app and the provider on the same machine
// and nothing else should be able to reach a provider that accepts any
// password.
const HOST = '127.0.0.1';

const PORT = parsePort(process.env.OIDC_PORT ?? '3101');

// The issuer must be exactly the URL the app is configured with, because the
// app's OIDC client compares it with the `iss` of the discovery document and
// of the ID token. Plain http is fine here: oidc-provider does not refuse a
// non-https issuer (it only needs a valid web URI), whatever NODE_ENV is.
const ISSUER = `http://${HOST}:${PORT}`;

// Base URL of the app under test; no trailing slash so that the redirect
// URIs below are built exactly as the app builds them.
const APP_URL = (process.env.APP_URL ?? 'http://127.0.0.1:3100').replace(/\/+$/, '');

// Claim released with the `profile` scope carrying the Italian fiscal code,
// named and formatted the way SPID / CIE OpenID Connect providers do
// ("TINIT-" + codice fiscale).
const FISCAL_NUMBER_CLAIM = 'https://attributes.eid.gov.it/fiscal_number';

// Accounts the tests know about. The dev login page lets the user type any
// login name; that name becomes the account id, which findAccount() below
// maps to one of these or to a generic account.
const KNOWN_ACCOUNTS = {
  'comune.bari': {
    email: 'referente@comune.bari.example',
    email_verified: true,
    name: 'Rosa Referente',
    given_name: 'Rosa',
    family_name: 'Referente',
    [FISCAL_NUMBER_CLAIM]: 'TINIT-RSSRSO80A41A662K',
  },
  sconosciuto: {
    email: 'nessuno@example.org',
    email_verified: true,
    name: 'Utente Sconosciuto',
    given_name: 'Utente',
    family_name: 'Sconosciuto',
    [FISCAL_NUMBER_CLAIM]: 'TINIT-NSSNSS80A01F205X',
  },
};

// Every claim a given account id has. Unknown ids get a generic account with
// the same shape but no fiscal number, so tests can exercise "logged in but
// not linked to any organisation" without registering anything.
function claimsFor(id) {
  const known = KNOWN_ACCOUNTS[id];
  if (known) return { sub: id, ...known };
  return {
    sub: id,
    email: `${id}@example.org`,
    email_verified: true,
    name: id,
    given_name: id,
    family_name: id,
  };
}

// oidc-provider calls findAccount(ctx, id) whenever it needs the account:
// after login, at the token endpoint and at the userinfo endpoint. It must
// return an object with `accountId` and an (async) `claims()` function. The
// library itself filters what claims() returns down to what the granted
// scopes / claims request allow, so returning everything is correct.
async function findAccount(ctx, id) {
  if (typeof id !== 'string' || id.length === 0) return undefined;
  return {
    accountId: id,
    async claims(/* use, scope, claims, rejected */) {
      return claimsFor(id);
    },
  };
}

// `conformIdTokenClaims` (library default: true) makes the provider follow
// OIDC Core 5.4 strictly: when an access token is issued (always, with the
// code flow), claims requested through *scopes* are delivered only by the
// userinfo endpoint and the ID token carries just the protocol claims (sub,
// auth_time, nonce, ...). The app must cope with that, so the default is
// kept; OIDC_CONFORM=false puts the scope claims in the ID token too, for
// tests that want to check the other path.
function conformIdTokenClaimsOption() {
  const raw = (process.env.OIDC_CONFORM ?? 'default').trim().toLowerCase();
  if (raw === '' || raw === 'default') return {};
  if (raw === 'true' || raw === '1') return { conformIdTokenClaims: true };
  if (raw === 'false' || raw === '0') return { conformIdTokenClaims: false };
  throw new Error(`OIDC_CONFORM must be "default", "true" or "false", got ${JSON.stringify(process.env.OIDC_CONFORM)}`);
}

// A fresh RSA signing key at every start. The Rust client expects RS256 ID
// tokens; providing our own key (instead of relying on the library's
// built-in development keystore) makes RS256 the only signing key and avoids
// the "development-only signing keys" warning. A new key per run is fine:
// clients fetch jwks_uri after discovery.
function generateSigningJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `e2e-${randomUUID()}`, use: 'sig', alg: 'RS256' }] };
}

const configuration = {
  // The single client: the Traguardi app, a confidential web client that
  // authenticates to the token endpoint with HTTP Basic (client_secret_basic)
  // and only uses the authorization code flow (no implicit / hybrid, no
  // refresh tokens).
  clients: [
    {
      client_id: 'traguardi-e2e',
      client_secret: 'e2e-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [`${APP_URL}/accedi/oidc/callback`],
      post_logout_redirect_uris: [`${APP_URL}/`],
      // Explicit although it is the client default, because the app
      // verifies RS256 signatures.
      id_token_signed_response_alg: 'RS256',
    },
  ],

  findAccount,

  // Scopes the provider accepts. `offline_access` (a library default) is
  // left out because the client is not allowed refresh tokens anyway.
  scopes: ['openid', 'email', 'profile'],

  // Which claims each scope releases. `openid` → sub is the library default,
  // repeated for clarity. The fiscal number is released with `profile`, as
  // SPID/CIE providers attach it to the identity attributes.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', FISCAL_NUMBER_CLAIM],
  },

  ...conformIdTokenClaimsOption(),

  // PKCE: the library only *requires* it for public clients (and FAPI
  // profiles), so a confidential client could skip it. The app always sends
  // a code_challenge, and the tests must prove it, so require it for every
  // authorization request. oidc-provider only supports the S256 method
  // (code_challenge_methods_supported: ["S256"]).
  pkce: {
    required: () => true,
  },

  features: {
    // Built-in login and consent HTML pages (under /interaction/:uid): any
    // login name, any password. Development-only by design, which is exactly
    // what an end-to-end fixture needs. The library logs a warning about it
    // at start; that is expected.
    devInteractions: { enabled: true },
    // RP-initiated logout: publishes `end_session_endpoint` in discovery so
    // the app's "Esci" can end the provider session too, and then redirect
    // back to a registered post_logout_redirect_uri.
    rpInitiatedLogout: { enabled: true },
  },

  // Fixed keys for signing the provider's cookies; any constant string will
  // do for tests (a restart invalidates sessions anyway, storage is memory).
  cookies: {
    keys: ['traguardi-e2e-cookie-key-1', 'traguardi-e2e-cookie-key-2'],
  },

  jwks: generateSigningJwks(),

  // Library defaults spelled out (in seconds) only to silence its "you
  // SHOULD change the default TTL function" notices in the test logs.
  ttl: {
    AccessToken: 60 * 60,
    IdToken: 60 * 60,
    Interaction: 60 * 60,
    Session: 14 * 24 * 60 * 60,
    Grant: 14 * 24 * 60 * 60,
  },
};

function parsePort(value) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`OIDC_PORT must be a TCP port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

const provider = new Provider(ISSUER, configuration);

// Surface server-side errors (bad client auth, PKCE mismatch, ...) in the
// test logs; the browser only sees a generic error page.
provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));
provider.on('authorization.error', (ctx, err) => console.error('oidc-provider authorization.error:', err.message, err.error_description ?? ''));
provider.on('grant.error', (ctx, err) => console.error('oidc-provider grant.error:', err.message, err.error_description ?? ''));

// A plain node:http server around the provider's Koa callback, so that we
// control the bind address (loopback only) and can shut it down ourselves.
const server = createServer(provider.callback());

server.on('error', (err) => {
  console.error(`oidc-provider could not listen on ${HOST}:${PORT}: ${err.message}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  // The test harness waits for this exact line.
  console.log(`oidc-provider ready at ${ISSUER}`);
});

// Clean shutdown: stop accepting connections, drop keep-alive sockets (a
// browser would otherwise keep the server open) and exit 0.
function shutdown(signal) {
  console.log(`oidc-provider: ${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Safety net in case something still holds the event loop.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
