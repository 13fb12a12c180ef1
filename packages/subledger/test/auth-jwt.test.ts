import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { base64url, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import {
  type AuthResult,
  AuthUnavailableError,
  createAuthenticator,
  type JwtOptions,
} from '../src/auth/index.ts';
import type { Database } from '../src/store/index.ts';
import { freePort } from './support/database.ts';

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'subledger';
const NOW_SECONDS = Math.floor(Date.UTC(2026, 0, 1) / 1000);

// The JWT path must not read the database: any use of it fails the test.
const noDatabase = new Proxy({} as Database, {
  get: () => {
    throw new Error('a JWT was checked against the database');
  },
});

type Signer = Awaited<ReturnType<typeof generateKeyPair>>;
let signer: Signer;
let stranger: Signer;
let server: Server;
let jwksUrl: string;
let keySetRequests = 0;

before(async () => {
  signer = await generateKeyPair('ES256');
  stranger = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(signer.publicKey)), kid: 'main', alg: 'ES256', use: 'sig' };
  server = createServer((_, response) => {
    keySetRequests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const authenticatorWith = (jwt: Partial<JwtOptions> = {}) =>
  createAuthenticator({
    database: noDatabase,
    livemode: false,
    jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...jwt },
    now: () => NOW_SECONDS * 1000,
  });

type Claims = JWTPayload & Record<string, unknown>;
const CLAIMS: Claims = {
  sub: 'user_42',
  account_id: 'acct_app_7',
  iss: ISSUER,
  aud: AUDIENCE,
  iat: NOW_SECONDS - 60,
  exp: NOW_SECONDS + 600,
};

/** A token with `change` applied to valid claims; an `undefined` value drops that claim. */
async function tokenWith(change: Claims = {}, options: { key?: Signer; kid?: string } = {}) {
  const claims = Object.fromEntries(
    Object.entries({ ...CLAIMS, ...change }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'main' })
    .sign((options.key ?? signer).privateKey);
}

const bearer = (token: string) => `Bearer ${token}`;

const refusal = (result: AuthResult) => (result.ok ? { code: 'ok', message: '' } : result);

test('a valid token becomes a read principal of the account its claim names', async () => {
  const result = await authenticatorWith().authenticate(bearer(await tokenWith()));
  assert.deepEqual(result, {
    ok: true,
    principal: { kind: 'token', subject: 'user_42', accountId: 'acct_app_7', scope: 'read' },
  });
});

test('the account claim is configurable', async () => {
  const token = await tokenWith({ account_id: undefined, org_id: 'org_9' });
  const result = await authenticatorWith({ accountClaim: 'org_id' }).authenticate(bearer(token));
  assert.ok(result.ok && result.principal.kind === 'token' && result.principal.accountId === 'org_9');
});

test('tokens that fail verification are refused with token_invalid and a reason', async () => {
  const hs256 = await new SignJWT(CLAIMS)
    .setProtectedHeader({ alg: 'HS256', kid: 'main' })
    .sign(new Uint8Array(32));
  const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify(CLAIMS))}.`;
  const cases: [string, string, RegExp][] = [
    ['expired', await tokenWith({ exp: NOW_SECONDS - 1 }), /expired/],
    ['not yet valid', await tokenWith({ nbf: NOW_SECONDS + 300 }), /not valid yet/],
    ['wrong audience', await tokenWith({ aud: 'another-app' }), /"aud"/],
    ['wrong issuer', await tokenWith({ iss: 'https://evil.example.test/' }), /"iss"/],
    ['no expiry', await tokenWith({ exp: undefined }), /no "exp" claim/],
    ['no subject', await tokenWith({ sub: undefined }), /no "sub" claim/],
    ['signed by another key, same kid', await tokenWith({}, { key: stranger }), /signature/],
    ['signed by another key, unknown kid', await tokenWith({}, { key: stranger, kid: 'other' }), /signature/],
    ['HS256', hs256, /algorithm/],
    ['alg none', unsigned, /algorithm/],
    ['garbage', 'eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln', /./],
  ];
  for (const [name, token, reason] of cases) {
    const result = refusal(await authenticatorWith().authenticate(bearer(token)));
    assert.equal(result.code, 'token_invalid', name);
    assert.match(result.message, reason, name);
    assert.ok(!result.message.includes(token), name);
  }
});

test('a token without a usable account claim is refused with token_account_missing', async () => {
  for (const accountId of [undefined, '', 42, ['acct_app_7'], null]) {
    const result = refusal(
      await authenticatorWith().authenticate(bearer(await tokenWith({ account_id: accountId }))),
    );
    assert.equal(result.code, 'token_account_missing', JSON.stringify(accountId));
    assert.match(result.message, /"account_id"/);
  }
});

test('a token whose account claim the API would refuse as an account id is refused with token_account_invalid', async () => {
  // `acct\uD800` and `acct\uDFFF` differ as strings, but PostgreSQL reads both as `acct\uFFFD`.
  const refused: [unknown, RegExp][] = [
    ['acct\uD800', /well-formed Unicode/],
    ['\uDFFFacct', /well-formed Unicode/],
    ['acct\u0000', /control characters/],
    ['x'.repeat(501), /at most 500 characters/],
  ];
  for (const [accountId, reason] of refused) {
    const result = refusal(
      await authenticatorWith().authenticate(bearer(await tokenWith({ account_id: accountId }))),
    );
    assert.equal(result.code, 'token_account_invalid', JSON.stringify(accountId));
    assert.match(result.message, /^The token's "account_id" claim is not an account id: it must /);
    assert.match(result.message, reason);
  }
  const paired = await authenticatorWith().authenticate(
    bearer(await tokenWith({ account_id: 'acct\uD83D\uDE00' })),
  );
  assert.ok(
    paired.ok && paired.principal.kind === 'token' && paired.principal.accountId === 'acct\uD83D\uDE00',
  );
});

test('a JWT on a server without JWT configured is refused with jwt_not_configured', async () => {
  const authenticator = createAuthenticator({ database: noDatabase, livemode: false });
  const result = refusal(await authenticator.authenticate(bearer(await tokenWith())));
  assert.equal(result.code, 'jwt_not_configured');
});

test('the key set is fetched once and then served from memory', async () => {
  const authenticator = authenticatorWith();
  const before = keySetRequests;
  for (let index = 0; index < 5; index++)
    assert.ok((await authenticator.authenticate(bearer(await tokenWith()))).ok);
  assert.equal(keySetRequests - before, 1);
});

test('an unreachable key set throws AuthUnavailableError rather than blaming the token', async () => {
  const closed = `http://127.0.0.1:${await freePort()}/jwks.json`;
  const authenticator = authenticatorWith({ jwksUrl: closed });
  await assert.rejects(authenticator.authenticate(bearer(await tokenWith())), (error: unknown) => {
    assert.ok(error instanceof AuthUnavailableError);
    assert.equal(error.code, 'auth_unavailable');
    return true;
  });
});
