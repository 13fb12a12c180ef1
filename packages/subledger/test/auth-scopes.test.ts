import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bearerOf } from '../src/auth/authenticator.ts';
import {
  allows,
  formatApiKey,
  mayAccess,
  type Principal,
  parseApiKey,
  type Scope,
} from '../src/auth/index.ts';
import { generateApiKey, hashSecret, randomBase62 } from '../src/auth/key-format.ts';
import { judgeKey } from '../src/auth/key-verifier.ts';
import type { StoredApiKey } from '../src/auth/keys.ts';

const key = (scope: Scope): Principal => ({
  kind: 'key',
  keyId: 'key_0123456789abcdef',
  scope,
  livemode: false,
});
const token: Principal = { kind: 'token', subject: 'user_1', accountId: 'acct_app_1', scope: 'read' };

test('allows: each scope includes the ones before it', () => {
  const table: [Principal, Scope, boolean][] = [
    [key('read'), 'read', true],
    [key('read'), 'write', false],
    [key('read'), 'admin', false],
    [key('write'), 'read', true],
    [key('write'), 'write', true],
    [key('write'), 'admin', false],
    [key('admin'), 'read', true],
    [key('admin'), 'write', true],
    [key('admin'), 'admin', true],
    [token, 'read', true],
    [token, 'write', false],
    [token, 'admin', false],
  ];
  for (const [principal, required, expected] of table)
    assert.equal(allows(principal, required), expected, `${principal.scope} → ${required}`);
});

test('mayAccess: a token sees only its own account, a key every account', () => {
  assert.equal(mayAccess(token, 'acct_app_1'), true);
  assert.equal(mayAccess(token, 'acct_app_2'), false);
  assert.equal(mayAccess(token, ''), false);
  assert.equal(mayAccess(key('read'), 'acct_app_1'), true);
  assert.equal(mayAccess(key('read'), 'acct_app_2'), true);
});

test('a generated key formats and parses back to the same parts', () => {
  for (const livemode of [false, true]) {
    const parts = generateApiKey(livemode);
    const text = formatApiKey(parts);
    assert.match(text, livemode ? /^slk_live_/ : /^slk_test_/);
    assert.match(parts.id, /^key_[0-9A-Za-z]{16}$/);
    assert.deepEqual(parseApiKey(text), parts);
  }
});

test('parseApiKey refuses anything but the exact shape', () => {
  const good = formatApiKey(generateApiKey(false));
  const malformed = [
    '',
    'slk_',
    good.replace('slk_test_', 'slk_prod_'),
    good.replace('slk_', 'sk_'),
    `${good}x`,
    good.slice(0, -1),
    `${good.slice(0, -1)}-`,
    ` ${good}`,
    good.replaceAll('_', '-'),
    'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  ];
  for (const text of malformed) assert.equal(parseApiKey(text), null, JSON.stringify(text));
});

test('randomBase62 gives exactly the requested base62 characters', () => {
  for (const length of [1, 16, 43, 200])
    assert.match(randomBase62(length), new RegExp(`^[0-9A-Za-z]{${length}}$`));
});

test('bearerOf: only a Bearer header carries a credential', () => {
  const table: [string | null, string | null][] = [
    [null, null],
    ['', null],
    ['Bearer', null],
    ['Bearer ', null],
    ['Basic dXNlcjpwYXNz', null],
    ['Bearer a b', null],
    ['Bearer slk_x', 'slk_x'],
    ['bearer slk_x', 'slk_x'],
    ['BEARER  slk_x  ', 'slk_x'],
  ];
  for (const [header, expected] of table) assert.equal(bearerOf(header), expected, JSON.stringify(header));
});

const stored = (
  parts: ReturnType<typeof generateApiKey>,
  change: Partial<StoredApiKey> = {},
): StoredApiKey => ({
  id: parts.id,
  secretHash: hashSecret(parts.secret),
  scope: 'write',
  livemode: parts.livemode,
  revoked: false,
  ...change,
});

test('judgeKey: one verdict per case, the secret proven before anything else is said', () => {
  const parts = generateApiKey(false);
  const other = generateApiKey(false);
  const table: [string, Parameters<typeof judgeKey>, string][] = [
    ['good', [parts, stored(parts), false], 'ok'],
    ['unknown id', [parts, null, false], 'api_key_invalid'],
    ['wrong secret', [{ ...parts, secret: other.secret }, stored(parts), false], 'api_key_invalid'],
    ['edited prefix', [{ ...parts, livemode: true }, stored(parts), true], 'api_key_invalid'],
    ['revoked', [parts, stored(parts, { revoked: true }), false], 'api_key_revoked'],
    [
      'revoked, wrong secret',
      [{ ...parts, secret: other.secret }, stored(parts, { revoked: true }), false],
      'api_key_invalid',
    ],
    ['test key, live server', [parts, stored(parts), true], 'api_key_wrong_environment'],
  ];
  for (const [name, args, expected] of table) {
    const verdict = judgeKey(...args);
    assert.equal(verdict.ok ? 'ok' : verdict.code, expected, name);
  }
  const live = generateApiKey(true);
  const wrong = judgeKey(live, stored(live), false);
  assert.ok(!wrong.ok);
  assert.match(wrong.message, /for the live environment; this server runs in test mode/);
  assert.doesNotMatch(wrong.message, new RegExp(live.secret));
});

test('property: any mutation of a valid key’s secret is refused', () => {
  const keys = fc.boolean().map((livemode) => generateApiKey(livemode));
  // Mostly base62 characters, which keep the key well-formed: those mutations reach the hash comparison.
  const char = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) },
  );
  const mutation = fc.record({
    kind: fc.constantFrom('replace' as const, 'insert' as const, 'delete' as const),
    at: fc.nat(),
    char,
  });
  fc.assert(
    fc.property(keys, mutation, (parts, { kind, at, char }) => {
      const secret = mutate(parts.secret, kind, at, char);
      fc.pre(secret !== parts.secret);
      const text = formatApiKey({ ...parts, secret });
      const parsed = parseApiKey(text);
      if (!parsed) return true;
      const row = parsed.id === parts.id ? stored(parts) : null;
      return !judgeKey(parsed, row, parts.livemode).ok;
    }),
    { numRuns: 500 },
  );
});

function mutate(secret: string, kind: 'replace' | 'insert' | 'delete', at: number, char: string): string {
  const index = at % (secret.length + (kind === 'insert' ? 1 : 0));
  const keep = kind === 'insert' ? index : index + 1;
  return secret.slice(0, index) + (kind === 'delete' ? '' : char) + secret.slice(keep);
}
