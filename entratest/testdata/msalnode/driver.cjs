// driver.cjs runs MSAL Node, unchanged, against the entratest emulator for
// the Go tests in ../../msalnode_test.go.
//
// The Go test talks to it in JSON lines: the first line on stdin says what
// to do; the driver reports each step with one line on stdout
// ({"step": ..., "result": ...} or {"step": ..., "error": ...}) and waits
// for a line on stdin before it goes on: a go-ahead, or, after the auth
// code URL, what the browser brought back.
// Diagnostics go to stderr, which the Go test shows when it fails.
//
// msal-node is required by absolute path (ENTRATEST_NODE_MODULES), so the
// script needs no node_modules of its own next to it. The emulator's CA
// must be trusted through NODE_EXTRA_CA_CERTS, which Node reads only at
// start-up: the Go test sets it on this process.
"use strict";

const path = require("node:path");
const readline = require("node:readline");

const modules = process.env.ENTRATEST_NODE_MODULES;
if (!modules || !path.isAbsolute(modules)) {
  console.error("driver.cjs: ENTRATEST_NODE_MODULES must be an absolute path to a node_modules directory");
  process.exit(2);
}
const msal = require(path.join(modules, "@azure", "msal-node"));

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();

async function readJSON() {
  const { value, done } = await lines.next();
  if (done) throw new Error("stdin closed before the Go test answered");
  return JSON.parse(value);
}

function emit(obj) {
  return new Promise((resolve, reject) =>
    process.stdout.write(JSON.stringify(obj) + "\n", (err) => (err ? reject(err) : resolve())));
}

// Only what the Go test asserts on; the account's idTokenClaims duplicate
// the result's.
function resultJSON(r) {
  return {
    accessToken: r.accessToken,
    idToken: r.idToken,
    idTokenClaims: r.idTokenClaims,
    tokenType: r.tokenType,
    scopes: r.scopes,
    fromCache: r.fromCache,
    expiresOn: r.expiresOn ? r.expiresOn.toISOString() : null,
    correlationId: r.correlationId,
    state: r.state,
    account: r.account && {
      homeAccountId: r.account.homeAccountId,
      localAccountId: r.account.localAccountId,
      tenantId: r.account.tenantId,
      environment: r.account.environment,
      username: r.account.username,
      name: r.account.name,
    },
  };
}

function errorJSON(e) {
  return {
    name: e && e.name,
    constructor: e && e.constructor && e.constructor.name,
    errorCode: e && e.errorCode,
    errorNo: e && e.errorNo !== undefined ? String(e.errorNo) : undefined,
    subError: e && e.subError,
    message: e && (e.errorMessage || e.message),
    // The request's id (MSAL sent it as client-request-id), not the body's.
    correlationId: e && e.correlationId,
  };
}

// step runs one MSAL call and reports it; a failure is reported, not
// thrown, so the Go test decides which failures are expected. The driver
// then waits for the test's go-ahead, so that the test can read the
// emulator's call counters before the next step makes more calls.
async function step(name, fn) {
  let r = null;
  try {
    r = await fn();
    await emit({ step: name, result: resultJSON(r) });
  } catch (e) {
    console.error(`driver.cjs: ${name}:`, e);
    await emit({ step: name, error: errorJSON(e) });
  }
  await readJSON();
  return r;
}

function newApp(cfg) {
  const auth = {
    clientId: cfg.clientId,
    authority: cfg.authority,
    knownAuthorities: [cfg.knownAuthority],
  };
  if (cfg.certificate) {
    auth.clientCertificate = {
      thumbprintSha256: cfg.certificate.thumbprintSha256,
      privateKey: cfg.certificate.privateKey,
    };
    if (cfg.certificate.x5c) auth.clientCertificate.x5c = cfg.certificate.x5c;
  } else {
    auth.clientSecret = cfg.clientSecret;
  }
  return new msal.ConfidentialClientApplication({
    auth,
    system: {
      loggerOptions: {
        logLevel: msal.LogLevel.Warning,
        piiLoggingEnabled: false,
        loggerCallback: (level, message) => console.error("msal:", message),
      },
    },
  });
}

async function authCode(cfg) {
  const app = newApp(cfg);
  const crypto = new msal.CryptoProvider();
  const pkce = await crypto.generatePkceCodes();
  const state = crypto.createNewGuid();
  const nonce = crypto.createNewGuid();
  const url = await app.getAuthCodeUrl({
    scopes: cfg.scopes,
    redirectUri: cfg.redirectUri,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: "S256",
    state,
    nonce,
    responseMode: msal.ResponseMode.QUERY,
  });
  await emit({ step: "authUrl", result: { url, state, nonce } });

  const cb = await readJSON(); // {code, state}: what the browser brought back
  const request = {
    code: cb.code,
    scopes: cfg.scopes,
    redirectUri: cfg.redirectUri,
    codeVerifier: pkce.verifier,
    state,
    nonce,
  };
  const first = await step("byCode", () => app.acquireTokenByCode(request, { code: cb.code, state: cb.state }));
  if (!first) return;

  await step("silent", () => app.acquireTokenSilent({ account: first.account, scopes: cfg.scopes }));
  await step("silentAPI", () => app.acquireTokenSilent({ account: first.account, scopes: [cfg.apiScope] }));
  // A replayed code is refused, and it revokes what the code issued: the
  // next refresh must then fail too.
  await step("replay", () => app.acquireTokenByCode(request, { code: cb.code, state: cb.state }));
  await step("silentAfterReplay", () =>
    app.acquireTokenSilent({ account: first.account, scopes: cfg.scopes, forceRefresh: true }));
}

async function clientCredentials(cfg) {
  const app = newApp(cfg);
  for (const name of ["first", "second"]) {
    await step(name, () => app.acquireTokenByClientCredential({ scopes: cfg.scopes }));
  }
}

async function main() {
  const cfg = await readJSON();
  switch (cfg.scenario) {
    case "authcode":
      await authCode(cfg);
      break;
    case "clientcredentials":
      await clientCredentials(cfg);
      break;
    default:
      throw new Error("unknown scenario " + JSON.stringify(cfg.scenario));
  }
}

main().then(
  // MSAL's fetch may keep connections open; the driver is done.
  () => process.exit(0),
  (e) => {
    console.error("driver.cjs:", e);
    process.exit(1);
  },
);
