import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { createSubledgerClient } from '@subledger/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createApiKey, revokeApiKey, type Scope } from '../src/auth/index.ts';
import { apiDocument } from '../src/http/index.ts';
import { completeCheckout } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

const ISSUER = 'https://id.example.test/';
let jwks: Server;
let signer: Awaited<ReturnType<typeof generateKeyPair>>;
let stack: Stack;

before(async () => {
  signer = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(signer.publicKey)), kid: 'main', alg: 'ES256' };
  jwks = createServer((_, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as { port: number };
  stack = await startStack({
    webhookEndpoint: false,
    environment: {
      SUBLEDGER_JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      SUBLEDGER_JWT_ISSUER: ISSUER,
    },
  });
});

after(async () => {
  await stack.close();
  await new Promise((resolve) => jwks.close(resolve));
});

const tokenFor = (accountId: string) =>
  new SignJWT({ account_id: accountId })
    .setProtectedHeader({ alg: 'ES256', kid: 'main' })
    .setSubject(`user_of_${accountId}`)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(signer.privateKey);

const keyOf = async (scope: Scope, livemode = false) =>
  (await createApiKey(stack.subledger.database, { scope, livemode })).key;

type Operation = { method: string; path: string; body?: unknown; scope: Scope; tokens: boolean };

/** Every route, with what it needs; a route missing here fails the first test. */
const OPERATIONS = (accountId: string): Operation[] => [
  {
    method: 'POST',
    path: '/v1/check',
    body: { account_id: accountId, feature: 'sso' },
    scope: 'read',
    tokens: true,
  },
  { method: 'GET', path: `/v1/accounts/${accountId}/entitlements`, scope: 'read', tokens: true },
  { method: 'GET', path: `/v1/accounts/${accountId}`, scope: 'read', tokens: true },
  { method: 'GET', path: `/v1/accounts/${accountId}/timeline`, scope: 'read', tokens: true },
  { method: 'POST', path: `/v1/accounts/${accountId}/sync`, scope: 'write', tokens: false },
  {
    method: 'POST',
    path: '/v1/checkout',
    body: {
      account_id: accountId,
      price: 'none',
      success_url: 'https://a.example',
      cancel_url: 'https://a.example',
    },
    scope: 'write',
    tokens: false,
  },
  { method: 'POST', path: '/v1/checkout/cs_test_nothing/sync', scope: 'read', tokens: true },
  ...(
    [
      ['/portal', { return_url: 'https://a.example' }],
      ['/subscription/quantity', { quantity: 2 }],
      ['/subscription/cancel', {}],
      ['/subscription/resume', {}],
      ['/subscription/plan', { plan: 'team' }],
      ['/subscription/plan/preview', { plan: 'team' }],
    ] as const
  ).map(([action, body]) => ({
    method: 'POST',
    path: `/v1/accounts/${accountId}${action}`,
    body,
    scope: 'write' as const,
    tokens: false,
  })),
  { method: 'GET', path: `/v1/accounts/${accountId}/credits`, scope: 'read', tokens: true },
  ...(
    [
      ['/v1/credits/consume', { account_id: accountId, amount: 1, idempotency_key: 'k' }],
      ['/v1/credits/reserve', { account_id: accountId, amount: 1, idempotency_key: 'k' }],
      ['/v1/credits/holds/hold_nothing/commit', {}],
      ['/v1/credits/holds/hold_nothing/release', undefined],
    ] as const
  ).map(([path, body]) => ({ method: 'POST', path, body, scope: 'write' as const, tokens: false })),
  {
    method: 'POST',
    path: '/v1/credits/grant',
    body: { account_id: accountId, amount: 1, reason: 'a test', idempotency_key: 'k' },
    scope: 'admin',
    tokens: false,
  },
];

const RANK = { read: 0, write: 1, admin: 2 } as const;

const call = (operation: Operation, credential?: string) =>
  fetch(`${stack.url}${operation.path}`, {
    method: operation.method,
    headers: {
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...(operation.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(operation.body ? { body: JSON.stringify(operation.body) } : {}),
  });

const codeOf = async (response: Response) =>
  ((await response.json()) as { error?: { code: string } }).error?.code;

test('the matrix covers every route of the OpenAPI document, and each route declares its security', () => {
  const documented = Object.entries(apiDocument().paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, { security?: unknown[] }>).map(([method, operation]) => {
      assert.ok(operation.security?.length, `${method} ${path} declares no security`);
      return `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '*')}`;
    }),
  );
  const covered = OPERATIONS('A').map(
    (operation) =>
      `${operation.method} ${operation.path.replace('/A', '/*').replace(/cs_test_nothing|hold_nothing/, '*')}`,
  );
  assert.deepEqual(covered.sort(), documented.sort());
});

test('no credential, a malformed, revoked or other-environment key: 401 with a code, on every route', async () => {
  const revoked = await createApiKey(stack.subledger.database, { scope: 'admin', livemode: false });
  await revokeApiKey(stack.subledger.database, revoked.id);
  const cases: [string | undefined, string][] = [
    [undefined, 'authentication_required'],
    ['slk_test_garbage', 'api_key_invalid'],
    [`${stack.apiKey.slice(0, -4)}AAAA`, 'api_key_invalid'],
    [revoked.key, 'api_key_revoked'],
    [await keyOf('admin', true), 'api_key_wrong_environment'],
  ];
  for (const operation of OPERATIONS('acct_a'))
    for (const [credential, code] of cases) {
      const response = await call(operation, credential);
      assert.equal(response.status, 401, `${operation.method} ${operation.path} ${code}`);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      assert.ok(response.headers.get('request-id'));
      const body = await response.text();
      assert.equal(JSON.parse(body).error.code, code);
      if (credential) assert.ok(!body.includes(credential), 'the credential is never echoed');
    }
});

test('scopes: a read key may not write; write and admin keys may', async () => {
  const keys = { read: await keyOf('read'), write: await keyOf('write'), admin: await keyOf('admin') };
  for (const operation of OPERATIONS('acct_a'))
    for (const scope of ['read', 'write', 'admin'] as const) {
      const response = await call(operation, keys[scope]);
      const refused = RANK[scope] < RANK[operation.scope];
      assert.equal(response.status === 403, refused, `${scope} key on ${operation.method} ${operation.path}`);
      if (refused) assert.equal(await codeOf(response), 'insufficient_scope');
      assert.ok(response.status < 500, `${operation.path}: ${response.status}`);
    }
});

test("an end user's token reads its own account only, and never writes", async () => {
  const token = await tokenFor('acct_mine');
  for (const operation of OPERATIONS('acct_mine')) {
    const response = await call(operation, token);
    if (!operation.tokens) {
      assert.equal(response.status, 403, operation.path);
      assert.equal(await codeOf(response), 'insufficient_scope');
    } else if (!operation.path.includes('cs_test'))
      assert.ok(![401, 403].includes(response.status) && response.status < 500, `${operation.path}`);
  }
  for (const operation of OPERATIONS('acct_other').filter((candidate) => candidate.tokens)) {
    if (operation.path.includes('cs_test')) continue;
    const response = await call(operation, token);
    assert.equal(response.status, 403, `${operation.method} ${operation.path}`);
    assert.equal(await codeOf(response), operation.tokens ? 'account_forbidden' : 'insufficient_scope');
  }
  const typed = createSubledgerClient({ baseUrl: stack.url, credential: token });
  const own = await typed.GET('/v1/accounts/{account_id}/entitlements', {
    params: { path: { account_id: 'acct_mine' } },
  });
  assert.equal(own.data?.account_id, 'acct_mine');
  const other = await typed.POST('/v1/check', { body: { account_id: 'acct_other', feature: 'sso' } });
  assert.equal(other.error?.error.code, 'account_forbidden');
});

test("an end user's token syncing another account's checkout is refused before anything is written", async () => {
  const price = await stack.stripe.prices.create({
    currency: 'usd',
    unit_amount: 900,
    recurring: { interval: 'month' },
    product_data: { name: 'Team' },
  });
  const session = await stack.stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: price.id, quantity: 1 }],
    client_reference_id: 'acct_theirs',
    success_url: 'https://app.example.com/ok',
  });
  await completeCheckout(stack, session.id);
  const sync = {
    method: 'POST',
    path: `/v1/checkout/${session.id}/sync`,
    scope: 'read',
    tokens: true,
  } as const;
  const mirrored = async () =>
    (
      await stack.database.pool.query(
        `select (select count(*) from checkout_sessions where id = $1)::int as sessions,
                (select count(*) from account_customers where account_id = 'acct_theirs')::int as links`,
        [session.id],
      )
    ).rows[0];

  const refused = await call(sync, await tokenFor('acct_mine'));
  assert.equal(refused.status, 403);
  assert.equal(await codeOf(refused), 'account_forbidden');
  assert.deepEqual(await mirrored(), { sessions: 0, links: 0 });

  const own = await call(sync, await tokenFor('acct_theirs'));
  assert.equal(own.status, 200);
  assert.deepEqual(await mirrored(), { sessions: 1, links: 1 });
});

test('each credential has its own rate limit: 429 rate_limited with Retry-After', async () => {
  const limited = await startStack({
    webhookEndpoint: false,
    environment: { SUBLEDGER_RATE_LIMIT: '3', SUBLEDGER_RATE_BURST: '3' },
  });
  try {
    const other = (await createApiKey(limited.subledger.database, { scope: 'read', livemode: false })).key;
    const read = (credential: string) =>
      fetch(`${limited.url}/v1/accounts/acct_a/entitlements`, {
        headers: { authorization: `Bearer ${credential}` },
      });
    const statuses = [];
    for (let request = 0; request < 5; request++) statuses.push((await read(limited.apiKey)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const refused = await read(limited.apiKey);
    assert.equal(await codeOf(refused), 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await read(other)).status, 200, 'another key is not slowed down');
  } finally {
    await limited.close();
  }
});

test('/openapi.json is the document the client is built from; /docs renders it from local assets', async () => {
  const served = await (await fetch(`${stack.url}/openapi.json`)).json();
  assert.deepEqual(served, JSON.parse(JSON.stringify(apiDocument())));
  const page = await fetch(`${stack.url}/docs`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /\/docs\/assets\/swagger-ui-bundle\.js/);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from another host');
  const bundle = await fetch(`${stack.url}/docs/assets/swagger-ui-bundle.js`);
  assert.equal(bundle.status, 200);
  assert.match(String(bundle.headers.get('content-type')), /javascript/);
  assert.ok((await bundle.arrayBuffer()).byteLength > 100_000);
  assert.equal((await fetch(`${stack.url}/docs/assets/..%2F..%2Fpackage.json`)).status, 404);
});
