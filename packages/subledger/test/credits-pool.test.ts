import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type CreditsService, createCreditsService } from '../src/credits/service.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

const place = { stripeAccount: 'platform', livemode: false };
let database: TestDatabase;
let clock = 1_800_000_000;
let credits: CreditsService;

before(async () => {
  database = await testDatabase();
  credits = createCreditsService({ database, place, now: () => clock });
});

after(() => database.drop());

/** For every lot: its grant plus its entries is what it has left, and nothing is below zero. */
async function assertLedgerSums(accountId: string) {
  const { rows } = await database.pool.query<{ id: string; remaining: string; total: string }>(
    `select l.id, l.remaining, coalesce(sum(e.amount), 0) as total
     from credit_lots l left join credit_entries e on e.lot_id = l.id
     where l.account_id = $1 group by l.id, l.remaining`,
    [accountId],
  );
  for (const row of rows) {
    assert.equal(Number(row.total), Number(row.remaining), `lot ${row.id}: entries and remainder disagree`);
    assert.ok(Number(row.remaining) >= 0);
  }
}

test('a source grants once, however often it is reported', async () => {
  const grant = {
    accountId: 'acct_g',
    creditType: 'ai',
    amount: 100,
    source: { kind: 'invoice' as const, id: 'in_1' },
  };
  const results = await Promise.all(Array.from({ length: 10 }, () => credits.grant(grant)));
  assert.equal(results.filter((result) => result.granted).length, 1);
  assert.equal(new Set(results.map((result) => result.lotId)).size, 1);
  assert.deepEqual(await credits.balance('acct_g', 'ai'), { available: 100, held: 0 });
  await assertLedgerSums('acct_g');
});

test('600 concurrent spends of one pool from two processes never overdraw it; a retried key spends once', async () => {
  const grant = { accountId: 'acct_hot', creditType: 'ai', amount: 250 };
  await credits.grant({ ...grant, source: { kind: 'manual', id: 'm1' } });
  // A second service stands for another process: only the pool's row lock keeps the two apart.
  const other = createCreditsService({ database, place, now: () => clock });
  const keyOf = (index: number) => `spend-${index % 580}`;
  const outcomes = await Promise.all(
    Array.from({ length: 600 }, (_, index) =>
      (index % 2 ? other : credits).consume({
        accountId: 'acct_hot',
        creditType: 'ai',
        amount: 1,
        key: keyOf(index),
      }),
    ),
  );
  const applied = new Set(outcomes.flatMap((outcome, index) => (outcome.ok ? [keyOf(index)] : [])));
  assert.equal(applied.size, 250, 'exactly the balance is spent');
  const refusals = outcomes.filter((outcome) => !outcome.ok);
  assert.ok(refusals.every((outcome) => !outcome.ok && outcome.code === 'insufficient_credits'));
  assert.deepEqual(await credits.balance('acct_hot', 'ai'), { available: 0, held: 0 });
  const again = await credits.consume({ accountId: 'acct_hot', creditType: 'ai', amount: 1, key: keyOf(0) });
  assert.deepEqual(again, outcomes[0], 'the first answer, again');
  await assertLedgerSums('acct_hot');
});

test('reserve, commit part, release, and a hold that expires by itself', async () => {
  await credits.grant({
    accountId: 'acct_h',
    creditType: 'ai',
    amount: 20,
    source: { kind: 'manual', id: 'm2' },
  });
  const hold = await credits.reserve({
    accountId: 'acct_h',
    creditType: 'ai',
    amount: 8,
    key: 'call-1',
    ttlSeconds: 60,
  });
  assert.deepEqual([hold.ok, hold.balance], [true, 12]);
  assert.deepEqual(await credits.commit(hold.holdId, 3), { ok: true, balance: 17, creditType: 'ai' });
  assert.deepEqual(
    await credits.commit(hold.holdId, 3),
    { ok: true, balance: 17, creditType: 'ai' },
    'a retried commit answers the same',
  );
  const second = await credits.reserve({
    accountId: 'acct_h',
    creditType: 'ai',
    amount: 5,
    key: 'call-2',
    ttlSeconds: 60,
  });
  assert.deepEqual(await credits.release(second.holdId), { ok: true, balance: 17, creditType: 'ai' });
  await credits.reserve({ accountId: 'acct_h', creditType: 'ai', amount: 7, key: 'call-3', ttlSeconds: 30 });
  assert.deepEqual(await credits.balance('acct_h', 'ai'), { available: 10, held: 7 });
  clock += 31;
  assert.deepEqual(
    await credits.balance('acct_h', 'ai'),
    { available: 17, held: 0 },
    'the expired hold came back',
  );
  assert.equal((await credits.commit('hold_unknown')).ok, false);
  await assertLedgerSums('acct_h');
});

test('random concurrent grants, spends, holds, commits and releases across clients: never negative, nothing lost', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('grant' as const), amount: fc.integer({ min: 1, max: 30 }) }),
          fc.record({ op: fc.constant('consume' as const), amount: fc.integer({ min: 1, max: 20 }) }),
          fc.record({ op: fc.constant('reserve' as const), amount: fc.integer({ min: 1, max: 20 }) }),
          fc.record({
            op: fc.constant('settle' as const),
            commit: fc.boolean(),
            actual: fc.integer({ min: 0, max: 20 }),
          }),
        ),
        { minLength: 1, maxLength: 40 },
      ),
      async (steps) => {
        const accountId = `acct_p_${Math.random().toString(36).slice(2)}`;
        const open = new Map<string, number>();
        let spent = 0;
        let granted = 0;
        // Four clients at once in two processes, each doing its steps in order; each settles its own holds.
        const processes = [credits, createCreditsService({ database, place, now: () => clock })];
        const lanes = [0, 1, 2, 3].map((lane) => steps.filter((_, index) => index % 4 === lane));
        await Promise.all(
          lanes.map(async (lane, laneIndex) => {
            const service = processes[laneIndex % 2] as CreditsService;
            const mine: string[] = [];
            for (const [index, step] of lane.entries()) {
              const key = `${accountId}-${laneIndex}-${index}`;
              if (step.op === 'grant') {
                await service.grant({
                  accountId,
                  creditType: 'ai',
                  amount: step.amount,
                  source: { kind: 'manual', id: key },
                });
                granted += step.amount;
              } else if (step.op === 'consume') {
                const outcome = await service.consume({
                  accountId,
                  creditType: 'ai',
                  amount: step.amount,
                  key,
                });
                if (outcome.ok) spent += step.amount;
              } else if (step.op === 'reserve') {
                const outcome = await service.reserve({
                  accountId,
                  creditType: 'ai',
                  amount: step.amount,
                  key,
                  ttlSeconds: 600,
                });
                if (outcome.ok) {
                  mine.push(outcome.holdId);
                  open.set(outcome.holdId, step.amount);
                }
              } else {
                const holdId = mine.shift();
                if (!holdId) continue;
                const actual = Math.min(step.actual, open.get(holdId) ?? 0);
                const outcome = step.commit
                  ? await service.commit(holdId, actual)
                  : await service.release(holdId);
                assert.ok(outcome.ok, `settling ${holdId}`);
                if (step.commit) spent += actual;
                open.delete(holdId);
              }
            }
          }),
        );
        const balance = await credits.balance(accountId, 'ai');
        const held = [...open.values()].reduce((sum, amount) => sum + amount, 0);
        assert.ok(balance.available >= 0);
        assert.equal(balance.held, held);
        assert.equal(balance.available + balance.held + spent, granted, 'granted = available + held + spent');
        await assertLedgerSums(accountId);
      },
    ),
    { numRuns: 25 },
  );
});
