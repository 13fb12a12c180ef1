import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
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

test('a live customer’s statement wins over a deleted customer’s, however much newer; alone, a deleted one keeps it', () => {
  const live = statement('team_1', 'cus_live', 1_000);
  const gone = { ...statement('team_1', 'cus_gone', 9_000), customerDeleted: true };
  assert.deepEqual(pairs(newestOf([live, gone])), ['team_1:cus_live']);
  assert.deepEqual(pairs(newestOf([gone, live])), ['team_1:cus_live']);
  // Its billing ended there: the account answers with that customer's ended state.
  assert.deepEqual(pairs(newestOf([gone])), ['team_1:cus_gone']);
});

/** Statements about a few accounts and customers, each customer deleted in all of them or in none. */
const statements = fc
  .tuple(
    fc.subarray(['cus_1', 'cus_2', 'cus_3', 'cus_4']),
    fc.array(
      fc.record({
        accountId: fc.constantFrom('team_1', 'team_2', 'team_3'),
        customerId: fc.constantFrom('cus_1', 'cus_2', 'cus_3', 'cus_4'),
        source: fc.constantFrom('customer_metadata' as const, 'checkout_session' as const),
        statedAt: fc.integer({ min: 1_000, max: 1_003 }),
      }),
      { maxLength: 10 },
    ),
  )
  .map(([deleted, drawn]) =>
    drawn.map((each) => ({ ...PLACE, ...each, customerDeleted: deleted.includes(each.customerId) })),
  );

test('no account is left to a deleted customer while a live customer states it and no other link holds that one', () => {
  fc.assert(
    fc.property(statements, (all) => {
      const links = newestOf(all);
      const held = new Set(links.map((link) => link.customerId));
      for (const link of links.filter((each) => each.customerDeleted))
        for (const other of all.filter((each) => each.accountId === link.accountId && !each.customerDeleted))
          assert.ok(
            held.has(other.customerId),
            `${link.accountId} left to ${link.customerId} over ${other.customerId}`,
          );
    }),
    { numRuns: 500 },
  );
});
