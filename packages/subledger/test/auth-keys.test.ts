import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  ApiKeyError,
  type AuthResult,
  createApiKey,
  createAuthenticator,
  createRateLimiter,
  listApiKeys,
  type Principal,
  revokeApiKey,
  type Scope,
} from '../src/auth/index.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const CACHE_MS = 5_000;

/** An authenticator on the test database with a clock the test moves. */
function authenticatorAt(livemode: boolean, start = Date.UTC(2026, 0, 1)) {
  const clock = { now: start };
  const authenticator = createAuthenticator({
    database,
    livemode,
    keyCacheMs: CACHE_MS,
    now: () => clock.now,
  });
  return { clock, authenticate: (key: string | null) => authenticator.authenticate(key && `Bearer ${key}`) };
}

const codeOf = (result: AuthResult) => (result.ok ? 'ok' : result.code);

/** Replaces the secret's first character by another base62 one: still well-formed, no longer the key. */
const withOtherSecret = (key: string) =>
  key.replace(
    /_([0-9A-Za-z])([0-9A-Za-z]{42})$/,
    (_, first: string, rest: string) => `_${first === 'a' ? 'b' : 'a'}${rest}`,
  );

test('a created key authenticates with its scope and environment', async () => {
  const { authenticate } = authenticatorAt(false);
  for (const scope of ['read', 'write', 'admin'] as Scope[]) {
    const created = await createApiKey(database, { scope, livemode: false, label: `ci ${scope}` });
    assert.match(created.key, /^slk_test_[0-9A-Za-z]{16}_[0-9A-Za-z]{43}$/);
    assert.equal(created.key.split('_')[2], created.id.slice('key_'.length));
    const result = await authenticate(created.key);
    assert.deepEqual(result, {
      ok: true,
      principal: { kind: 'key', keyId: created.id, scope, livemode: false },
    });
  }
});

test('wrong secret, unknown id and malformed keys are invalid, and no message repeats the key', async () => {
  const { authenticate } = authenticatorAt(false);
  const { key } = await createApiKey(database, { scope: 'write', livemode: false });
  const unknown = key.replace(/^slk_test_[0-9A-Za-z]{16}/, 'slk_test_0000000000000000');
  const cases: [string, string][] = [
    [withOtherSecret(key), 'api_key_invalid'],
    [unknown, 'api_key_invalid'],
    [key.replace('slk_test_', 'slk_live_'), 'api_key_invalid'],
    [key.slice(0, -1), 'api_key_invalid'],
    ['slk_', 'api_key_invalid'],
    ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'api_key_invalid'],
    ['eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln', 'jwt_not_configured'],
  ];
  for (const [presented, code] of cases) {
    const result = await authenticate(presented);
    assert.equal(codeOf(result), code, presented);
    assert.ok(!result.ok && result.status === 401);
    assert.ok(!result.message.includes(presented), result.message);
    assert.ok(!result.message.includes(key.slice(-43)), result.message);
  }
});

test('no header, or not a Bearer header: authentication_required', async () => {
  const authenticator = createAuthenticator({ database, livemode: false });
  for (const header of [null, '', 'Bearer', 'Basic dXNlcjpwYXNz', 'slk_test_x']) {
    const result = await authenticator.authenticate(header);
    assert.equal(codeOf(result), 'authentication_required', String(header));
  }
});

test('a key of the other environment is refused, naming the environment it is for', async () => {
  const live = await createApiKey(database, { scope: 'read', livemode: true });
  const test = await createApiKey(database, { scope: 'read', livemode: false });
  const onTest = await authenticatorAt(false).authenticate(live.key);
  assert.equal(codeOf(onTest), 'api_key_wrong_environment');
  assert.match(!onTest.ok ? onTest.message : '', /for the live environment; this server runs in test mode/);
  const onLive = await authenticatorAt(true).authenticate(test.key);
  assert.equal(codeOf(onLive), 'api_key_wrong_environment');
  assert.match(!onLive.ok ? onLive.message : '', /for the test environment; this server runs in live mode/);
  assert.equal(codeOf(await authenticatorAt(true).authenticate(live.key)), 'ok');
});

test('a revoked key is refused once the cached entry expires', async () => {
  const { clock, authenticate } = authenticatorAt(false);
  const { id, key } = await createApiKey(database, { scope: 'read', livemode: false });
  assert.equal(codeOf(await authenticate(key)), 'ok');
  assert.equal(await revokeApiKey(database, id), true);
  clock.now += CACHE_MS - 1;
  assert.equal(codeOf(await authenticate(key)), 'ok', 'still cached');
  clock.now += 2;
  assert.equal(codeOf(await authenticate(key)), 'api_key_revoked');
  assert.equal(
    codeOf(await authenticate(withOtherSecret(key))),
    'api_key_invalid',
    'revoked only with its secret',
  );
  assert.equal(codeOf(await authenticatorAt(false).authenticate(key)), 'api_key_revoked', 'a fresh cache');
});

test('revoking: unknown id false; twice true, keeping the first time', async () => {
  assert.equal(await revokeApiKey(database, 'key_0000000000000000'), false);
  const { id } = await createApiKey(database, { scope: 'admin', livemode: false });
  assert.equal(await revokeApiKey(database, id), true);
  const first = (await listApiKeys(database)).find((key) => key.id === id)?.revokedAt;
  assert.ok(first instanceof Date);
  assert.equal(await revokeApiKey(database, id), true);
  assert.deepEqual((await listApiKeys(database)).find((key) => key.id === id)?.revokedAt, first);
});

test('the cache answers within its lifetime without reading the row', async () => {
  const { clock, authenticate } = authenticatorAt(false);
  const { id, key } = await createApiKey(database, { scope: 'write', livemode: false });
  assert.equal(codeOf(await authenticate(key)), 'ok');
  await database.pool.query('delete from api_keys where id = $1', [id]);
  clock.now += CACHE_MS - 1;
  assert.equal(codeOf(await authenticate(key)), 'ok', 'served from the cache');
  clock.now += 2;
  assert.equal(codeOf(await authenticate(key)), 'api_key_invalid', 'read again, and gone');
});

test('last_used_at is written on first use, then at most once a minute', async () => {
  const { clock, authenticate } = authenticatorAt(false);
  const { id, key } = await createApiKey(database, { scope: 'read', livemode: false });
  const lastUsed = async () => (await listApiKeys(database)).find((row) => row.id === id)?.lastUsedAt ?? null;
  assert.equal(await lastUsed(), null);
  const start = clock.now;
  await authenticate(key);
  assert.equal((await lastUsed())?.getTime(), start);
  clock.now += 30_000;
  await authenticate(key);
  assert.equal((await lastUsed())?.getTime(), start, 'not again within the minute');
  clock.now += 31_000;
  await authenticate(key);
  assert.equal((await lastUsed())?.getTime(), start + 61_000);
});

test('the table and the list hold no secret', async () => {
  const created = await createApiKey(database, { scope: 'write', livemode: false, label: 'billing worker' });
  const secret = created.key.slice(-43);
  const { rows } = await database.pool.query('select * from api_keys where id = $1', [created.id]);
  const row = rows[0] as Record<string, unknown>;
  assert.equal(row.secret_hash, createHash('sha256').update(secret).digest('hex'));
  assert.ok(!JSON.stringify(row).includes(secret));
  const listed = await listApiKeys(database);
  const mine = listed.find((key) => key.id === created.id);
  assert.deepEqual(
    { ...mine, createdAt: undefined },
    {
      id: created.id,
      scope: 'write',
      livemode: false,
      label: 'billing worker',
      createdAt: undefined,
      lastUsedAt: null,
      revokedAt: null,
    },
  );
  const text = JSON.stringify(listed);
  assert.ok(!text.includes(secret));
  assert.ok(!text.includes(String(row.secret_hash)));
  assert.ok(!/secret|hash/i.test(text));
});

test('createApiKey refuses a bad scope or label with a coded error', async () => {
  await assert.rejects(
    createApiKey(database, { scope: 'owner' as Scope, livemode: false }),
    (error: unknown) => {
      assert.ok(error instanceof ApiKeyError);
      assert.equal(error.code, 'api_key_options_invalid');
      assert.match(error.message, /scope must be read, write or admin/);
      return true;
    },
  );
  await assert.rejects(
    createApiKey(database, { scope: 'read', livemode: false, label: 'x'.repeat(201) }),
    ApiKeyError,
  );
});

test('the rate limiter lets the burst through, then refuses with a retry time, per principal', async () => {
  const limiter = createRateLimiter({ perSecond: 5, burst: 12 });
  const first: Principal = { kind: 'key', keyId: 'key_rate0000000000a', scope: 'read', livemode: false };
  const second: Principal = { kind: 'token', subject: 'user_rate', accountId: 'a', scope: 'read' };
  const taken = [];
  for (let index = 0; index < 14; index++) taken.push(await limiter.take(first));
  assert.equal(taken.filter((result) => result.ok).length, 12);
  const refused = taken.at(-1);
  assert.ok(refused && !refused.ok);
  assert.equal(refused.retryAfterSeconds, 1, 'the steady window resets within a second');
  assert.deepEqual(await limiter.take(second), { ok: true }, 'another principal has its own allowance');
});
