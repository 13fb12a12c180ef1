import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type CreditsService, createCreditsService } from '../src/credits/service.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

/**
 * Random concurrent sequences over several pools, from clients in two "processes" (services on one
 * database), while the clock moves: lots and holds expire mid-run. Whatever the interleaving, no pool
 * goes below zero and every credit granted is accounted for: available, held, spent or expired.
 */
const place = { stripeAccount: 'platform', livemode: false };
const ACCOUNTS = ['a', 'b', 'c'];
let database: TestDatabase;
let clock = 1_900_000_000;

before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const step = fc.oneof(
  fc.record({
    op: fc.constant('grant' as const),
    account: fc.nat(2),
    amount: fc.integer({ min: 1, max: 40 }),
    lifetime: fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }),
  }),
  fc.record({
    op: fc.constant('consume' as const),
    account: fc.nat(2),
    amount: fc.integer({ min: 1, max: 25 }),
  }),
  fc.record({
    op: fc.constant('reserve' as const),
    account: fc.nat(2),
    amount: fc.integer({ min: 1, max: 25 }),
    ttl: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({
    op: fc.constant('settle' as const),
    commit: fc.boolean(),
    actual: fc.integer({ min: 0, max: 25 }),
  }),
  fc.record({ op: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 15 }) }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;
type Tally = { spent: Map<string, number> };

async function runLane(service: CreditsService, run: string, lane: number, steps: Step[], tally: Tally) {
  const mine: { holdId: string; account: string; amount: number }[] = [];
  const spend = (account: string, amount: number) =>
    tally.spent.set(account, (tally.spent.get(account) ?? 0) + amount);
  for (const [index, next] of steps.entries()) {
    const key = `${run}-${lane}-${index}`;
    if (next.op === 'tick') clock += next.seconds;
    else if (next.op === 'grant') {
      const accountId = `${run}-${ACCOUNTS[next.account]}`;
      const expiresAt = next.lifetime === null ? null : clock + next.lifetime;
      await service.grant({
        accountId,
        creditType: 'ai',
        amount: next.amount,
        expiresAt,
        source: { kind: 'manual', id: key },
      });
    } else if (next.op === 'consume') {
      const accountId = `${run}-${ACCOUNTS[next.account]}`;
      const outcome = await service.consume({ accountId, creditType: 'ai', amount: next.amount, key });
      assert.ok(outcome.balance >= 0);
      if (outcome.ok) spend(accountId, next.amount);
      else assert.equal(outcome.code, 'insufficient_credits');
    } else if (next.op === 'reserve') {
      const accountId = `${run}-${ACCOUNTS[next.account]}`;
      const hold = await service.reserve({
        accountId,
        creditType: 'ai',
        amount: next.amount,
        key,
        ttlSeconds: next.ttl,
      });
      if (hold.ok) mine.push({ holdId: hold.holdId, account: accountId, amount: next.amount });
    } else {
      const hold = mine.shift();
      if (!hold) continue;
      const actual = Math.min(next.actual, hold.amount);
      const outcome = next.commit
        ? await service.commit(hold.holdId, actual)
        : await service.release(hold.holdId);
      // A hold that expired first gave its credits back by itself: nothing is spent then.
      if (!outcome.ok) assert.equal(outcome.code, 'hold_not_found');
      else if (next.commit) spend(hold.account, actual);
    }
  }
}

/** Granted, what is left in lots, what expiry took, and what open holds set aside, per account. */
async function books(run: string) {
  const { rows } = await database.pool.query<{
    account_id: string;
    granted: string;
    remaining: string;
    expired: string;
    held: string;
    negative: number;
  }>(
    `select l.account_id, sum(l.amount) as granted, sum(l.remaining) as remaining,
            (select coalesce(-sum(e.amount), 0) from credit_entries e
             where e.account_id = l.account_id and e.kind = 'expire') as expired,
            (select coalesce(sum(h.amount), 0) from credit_holds h where h.account_id = l.account_id) as held,
            count(*) filter (where l.remaining < 0)::int as negative
     from credit_lots l where l.account_id like $1 group by l.account_id`,
    [`${run}-%`],
  );
  return rows;
}

test('random concurrent grants, spends, holds and expiries over several pools: never negative, nothing lost', async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), async (steps) => {
      const run = `run${runs++}`;
      const tally: Tally = { spent: new Map() };
      const services = [0, 1].map(() => createCreditsService({ database, place, now: () => clock }));
      const lanes = [0, 1, 2, 3, 4, 5].map((lane) => steps.filter((_, index) => index % 6 === lane));
      await Promise.all(
        lanes.map((lane, index) => runLane(services[index % 2] as CreditsService, run, index, lane, tally)),
      );
      // Every hold and lot past its time is swept by each pool's next change: a refused spend is one.
      clock += 60;
      for (const account of ACCOUNTS)
        await services[0]?.consume({
          accountId: `${run}-${account}`,
          creditType: 'ai',
          amount: 1e12,
          key: `${run}-sweep`,
        });
      for (const row of await books(run)) {
        const spent = tally.spent.get(row.account_id) ?? 0;
        assert.equal(row.negative, 0, `${row.account_id}: a lot below zero`);
        assert.equal(Number(row.held), 0, 'every hold expired by now');
        assert.equal(
          Number(row.remaining) + Number(row.expired) + spent,
          Number(row.granted),
          `${row.account_id}: granted = left + expired + spent`,
        );
      }
    }),
    { numRuns: 30 },
  );
});
