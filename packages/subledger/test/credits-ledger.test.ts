import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyOperations,
  availableBalance,
  type Lot,
  type Operation,
  type PoolState,
  spendingOrder,
} from '../src/credits/ledger.ts';

const lot = (id: string, remaining: number, expiresAt: number | null, createdAt = 0): Lot => ({
  id,
  remaining,
  expiresAt,
  createdAt,
});

test('spending takes the lot that expires first; a shortfall is refused and changes nothing', () => {
  const state: PoolState = {
    lots: [lot('forever', 10, null), lot('soon', 5, 100), lot('later', 5, 200)],
    holds: [],
  };
  const {
    outcomes,
    entries,
    state: after,
  } = applyOperations(
    state,
    [
      { kind: 'consume', key: 'a', amount: 7 },
      { kind: 'consume', key: 'b', amount: 50 },
    ],
    10,
  );
  assert.deepEqual(outcomes, [
    { ok: true, balance: 13 },
    { ok: false, code: 'insufficient_credits', balance: 13 },
  ]);
  assert.deepEqual(
    entries.map((entry) => [entry.lotId, entry.amount]),
    [
      ['soon', -5],
      ['later', -2],
    ],
  );
  assert.deepEqual(
    after.lots.map((candidate) => candidate.remaining),
    [10, 0, 3],
  );
});

test('a hold sets credits aside; a partial commit returns the rest; an expired hold returns by itself', () => {
  const start: PoolState = { lots: [lot('grant', 10, null)], holds: [] };
  const reserved = applyOperations(
    start,
    [{ kind: 'reserve', key: 'r1', holdId: 'h1', amount: 6, expiresAt: 50 }],
    0,
  );
  assert.deepEqual(reserved.outcomes, [{ ok: true, balance: 4 }]);
  const committed = applyOperations(
    reserved.state,
    [{ kind: 'commit', key: 'c1', holdId: 'h1', actual: 2 }],
    10,
  );
  assert.deepEqual(committed.outcomes, [{ ok: true, balance: 8 }], '4 of the 6 come back');
  assert.deepEqual(committed.state.holds, []);

  const again = applyOperations(
    committed.state,
    [{ kind: 'reserve', key: 'r2', holdId: 'h2', amount: 8, expiresAt: 20 }],
    10,
  );
  assert.equal(availableBalance(again.state, 10), 0);
  const later = applyOperations(again.state, [{ kind: 'commit', key: 'c2', holdId: 'h2' }], 20);
  assert.deepEqual(
    later.outcomes,
    [{ ok: false, code: 'hold_not_found', balance: 8 }],
    'it expired and came back',
  );
  assert.deepEqual(
    later.entries.map((entry) => [entry.key, entry.kind, entry.amount]),
    [['expire:h2', 'release', 8]],
  );
});

test('a lot that runs out of time takes its remainder with it; a refused commit changes nothing', () => {
  const state: PoolState = { lots: [lot('trial', 5, 100), lot('paid', 3, null)], holds: [] };
  const { outcomes, entries } = applyOperations(
    state,
    [
      { kind: 'commit', key: 'x', holdId: 'missing' },
      { kind: 'consume', key: 'y', amount: 4 },
    ],
    100,
  );
  assert.deepEqual(entries[0], {
    key: 'expire:trial',
    kind: 'expire',
    lotId: 'trial',
    holdId: null,
    amount: -5,
  });
  assert.deepEqual(outcomes, [
    { ok: false, code: 'hold_not_found', balance: 3 },
    { ok: false, code: 'insufficient_credits', balance: 3 },
  ]);
});

// ---- Properties: random pools, random batches of operations, the clock moving on between batches.

const HOLD_IDS = ['h0', 'h1', 'h2', 'h3'];
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('consume' as const),
    key: fc.string({ maxLength: 3 }),
    amount: fc.integer({ min: -2, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('reserve' as const),
    key: fc.string({ maxLength: 3 }),
    holdId: fc.constantFrom(...HOLD_IDS),
    amount: fc.integer({ min: 1, max: 40 }),
    expiresAt: fc.integer({ min: 0, max: 400 }),
  }),
  fc.record(
    {
      kind: fc.constant('commit' as const),
      key: fc.string({ maxLength: 3 }),
      holdId: fc.constantFrom(...HOLD_IDS),
      actual: fc.integer({ min: -1, max: 45 }),
    },
    { requiredKeys: ['kind', 'key', 'holdId'] },
  ),
  fc.record({
    kind: fc.constant('release' as const),
    key: fc.string({ maxLength: 3 }),
    holdId: fc.constantFrom(...HOLD_IDS),
  }),
);
const lots = fc
  .array(
    fc.record({
      remaining: fc.integer({ min: 0, max: 60 }),
      expiresAt: fc.option(fc.integer({ min: 1, max: 400 })),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((drafts) => drafts.map((draft, index) => lot(`lot${index}`, draft.remaining, draft.expiresAt, index)));
const batches = fc.array(fc.tuple(fc.integer({ min: 0, max: 120 }), fc.array(operation, { maxLength: 8 })), {
  maxLength: 6,
});

test('never negative, and every credit is accounted for: available + held + spent + expired = granted', () => {
  fc.assert(
    fc.property(lots, batches, (initial, rounds) => {
      const granted = initial.reduce((sum, candidate) => sum + candidate.remaining, 0);
      let state: PoolState = { lots: initial, holds: [] };
      let now = 0;
      let spent = 0;
      let expired = 0;
      for (const [step, operations] of rounds) {
        now += step;
        const holdsBefore = new Map(state.holds.map((hold) => [hold.id, hold.amount]));
        const applied = applyOperations(state, operations, now);
        const seen = new Set<string>();
        operations.forEach((op, index) => {
          const first = !seen.has(op.key);
          seen.add(op.key);
          if (!first || !applied.outcomes[index]?.ok) return;
          if (op.kind === 'consume') spent += op.amount;
          if (op.kind === 'reserve') holdsBefore.set(op.holdId, op.amount);
          if (op.kind === 'commit') spent += op.actual ?? (holdsBefore.get(op.holdId) as number);
        });
        expired -= applied.entries
          .filter((entry) => entry.kind === 'expire')
          .reduce((sum, e) => sum + e.amount, 0);
        state = applied.state;
        for (const candidate of state.lots)
          assert.ok(candidate.remaining >= 0, `${candidate.id} went negative`);
        const inLots = state.lots.reduce((sum, candidate) => sum + candidate.remaining, 0);
        const held = state.holds.reduce((sum, hold) => sum + hold.amount, 0);
        assert.equal(inLots + held + spent + expired, granted);
      }
    }),
    { numRuns: 400 },
  );
});

test('a consume is refused exactly when the live lots hold less, and takes them in spending order', () => {
  fc.assert(
    fc.property(
      lots,
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 1, max: 150 }),
      (initial, now, amount) => {
        const state: PoolState = { lots: initial, holds: [] };
        const before = availableBalance(state, now);
        const applied = applyOperations(state, [{ kind: 'consume', key: 'k', amount }], now);
        assert.equal(applied.outcomes[0]?.ok, before >= amount);
        const spends = applied.entries.filter((entry) => entry.kind === 'spend');
        const live = spendingOrder(initial).filter(
          (candidate) => candidate.expiresAt === null || candidate.expiresAt > now,
        );
        const touched = spends.map((entry) => entry.lotId);
        const nonEmpty = live.filter((candidate) => candidate.remaining > 0).map((candidate) => candidate.id);
        assert.deepEqual(touched, nonEmpty.slice(0, touched.length), 'a prefix of the spending order');
        spends.slice(0, -1).forEach((entry) => {
          const drained = initial.find((candidate) => candidate.id === entry.lotId) as Lot;
          assert.equal(-entry.amount, drained.remaining, 'every lot but the last is emptied');
        });
      },
    ),
    { numRuns: 400 },
  );
});

test('an operation key seen twice in a batch answers the same and moves nothing the second time', () => {
  fc.assert(
    fc.property(lots, operation, (initial, op) => {
      const once = applyOperations({ lots: initial, holds: [] }, [op], 0);
      const twice = applyOperations({ lots: initial, holds: [] }, [op, op], 0);
      assert.deepEqual(twice.outcomes, [once.outcomes[0], once.outcomes[0]]);
      assert.deepEqual(twice.entries, once.entries);
    }),
  );
});
