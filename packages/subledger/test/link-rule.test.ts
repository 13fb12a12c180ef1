import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displacedBy, newestOf, type Statement, type StoredLinks } from '../src/sync/link-rule.ts';

const PLACE = { stripeAccount: 'platform', livemode: false };

const statement = (accountId: string, customerId: string, statedAt: number): Statement => ({
  accountId,
  customerId,
  ...PLACE,
  source: 'checkout_session',
  statedAt,
  customerDeleted: false,
});

const pairs = (statements: { accountId: string; customerId: string }[]) =>
  statements.map((s) => `${s.accountId}:${s.customerId}`).sort();

test("a customer named by two accounts' newest statements goes to the newer, whichever account came first", () => {
  // team_1's oldest statement is the oldest of all, so its key comes first; its newest is still the newer.
  const statements = [
    statement('team_1', 'cus_old', 1_000),
    statement('team_2', 'cus_shared', 1_011),
    statement('team_1', 'cus_shared', 1_041),
  ];
  assert.deepEqual(pairs(newestOf(statements)), ['team_1:cus_shared']);
  assert.deepEqual(pairs(newestOf([...statements].reverse())), ['team_1:cus_shared']);
});

test('an account whose newest statement names a customer a newer statement takes is linked by its next', () => {
  const statements = [
    statement('team_1', 'cus_2', 1_011),
    statement('team_1', 'cus_1', 1_001),
    statement('team_3', 'cus_2', 1_021),
  ];
  assert.deepEqual(pairs(newestOf(statements)), ['team_1:cus_1', 'team_3:cus_2']);
  assert.deepEqual(pairs(newestOf([...statements].reverse())), ['team_1:cus_1', 'team_3:cus_2']);
});

test('a link made displaces the customer its account held, unless that customer is linked again', () => {
  const held = statement('team_1', 'cus_before', 1_000);
  const stored: StoredLinks = {
    byAccount: new Map([[`team_1|platform|false`, held]]),
    byCustomer: new Map([[`cus_before|platform|false`, held]]),
  };
  assert.deepEqual(displacedBy([statement('team_1', 'cus_after', 2_000)], stored), [
    { customerId: 'cus_before', ...PLACE },
  ]);
  assert.deepEqual(
    displacedBy([statement('team_1', 'cus_after', 2_000), statement('team_2', 'cus_before', 2_000)], stored),
    [],
  );
  assert.deepEqual(displacedBy([statement('team_1', 'cus_before', 2_000)], stored), []);
});
