import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAuthenticator } from '../src/auth/index.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';
import { runCli } from './support/run-cli.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const keys = (...args: string[]) => runCli(['keys', ...args], { DATABASE_URL: database.url });

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

test('keys create prints a description, then the key alone on its last line, and the key works', async () => {
  const result = await keys('create', '--scope', 'read', '--label', 'cli test');
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.ok(lines.length >= 2, result.stdout);
  assert.match(lines[0] ?? '', /read scope, test environment/);
  const key = lastLine(result.stdout);
  assert.match(key, /^slk_test_[0-9A-Za-z]{16}_[0-9A-Za-z]{43}$/);
  const authenticated = await createAuthenticator({ database, livemode: false }).authenticate(
    `Bearer ${key}`,
  );
  assert.ok(authenticated.ok && authenticated.principal.kind === 'key');
  assert.equal(authenticated.principal.scope, 'read');
});

test('keys create follows STRIPE_SECRET_KEY for the environment unless told', async () => {
  const env = { DATABASE_URL: database.url, STRIPE_SECRET_KEY: 'sk_live_cli' };
  assert.match(lastLine((await runCli(['keys', 'create', '--scope', 'write'], env)).stdout), /^slk_live_/);
  assert.match(
    lastLine((await runCli(['keys', 'create', '--scope', 'write', '--test'], env)).stdout),
    /^slk_test_/,
  );
  assert.match(lastLine((await keys('create', '--scope', 'admin', '--live')).stdout), /^slk_live_/);
});

test('keys create refuses a bad scope, or both environments, with one line and a non-zero exit', async () => {
  for (const args of [['--scope', 'nope'], [], ['--scope', 'read', '--live', '--test']]) {
    const result = await keys('create', ...args);
    assert.notEqual(result.code, 0, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.equal(result.stdout, '');
  }
  assert.match((await keys('create', '--scope', 'nope')).stderr, /read, write, admin/);
});

test('keys list shows no secret; keys revoke refuses the key from then on', async () => {
  const created = await keys('create', '--scope', 'write');
  const key = lastLine(created.stdout);
  const id = `key_${key.split('_')[2]}`;
  const listed = await keys('list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { id: string; scope: string; revoked_at: string | null }[];
  assert.ok(rows.some((row) => row.id === id && row.scope === 'write' && row.revoked_at === null));
  assert.ok(!listed.stdout.includes(key.slice(-43)));
  const table = await keys('list');
  assert.match(table.stdout, new RegExp(`${id}\\s+write\\s+test`));
  assert.ok(!table.stdout.includes(key.slice(-43)));

  const revoked = await keys('revoke', id);
  assert.equal(revoked.code, 0, revoked.stderr);
  const result = await createAuthenticator({ database, livemode: false }).authenticate(`Bearer ${key}`);
  assert.equal(result.ok ? 'ok' : result.code, 'api_key_revoked');

  const unknown = await keys('revoke', 'key_0000000000000000');
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /^subledger: api_key_not_found: /);
});
