import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { costPerDay, type RecurringCost, recurringCostOf, timingOf } from '../src/billing/plan-timing.ts';

const month = (unitAmount: number): RecurringCost => ({ unitAmount, interval: 'month', intervalCount: 1 });
const year = (unitAmount: number): RecurringCost => ({ unitAmount, interval: 'year', intervalCount: 1 });

test('paying more per day is an upgrade (now); less is a downgrade (at period end)', () => {
  assert.equal(timingOf({ cost: month(1500), quantity: 1 }, { cost: month(4500), quantity: 1 }), 'now');
  assert.equal(
    timingOf({ cost: month(4500), quantity: 1 }, { cost: month(1500), quantity: 1 }),
    'period_end',
  );
  assert.equal(
    timingOf({ cost: month(1500), quantity: 3 }, { cost: month(1500), quantity: 2 }),
    'period_end',
  );
  assert.equal(timingOf({ cost: month(1500), quantity: 1 }, { cost: month(1500), quantity: 1 }), 'now');
  // Yearly at 10 months' price is cheaper per day than monthly: a downgrade, though the invoice is larger.
  assert.equal(
    timingOf({ cost: month(1000), quantity: 1 }, { cost: year(10_000), quantity: 1 }),
    'period_end',
  );
  assert.equal(timingOf({ cost: month(1000), quantity: 1 }, { cost: year(13_000), quantity: 1 }), 'now');
});

test('timing is antisymmetric: of two different costs, exactly one direction is a downgrade', () => {
  const cost = fc.record({
    unitAmount: fc.integer({ min: 0, max: 1_000_000 }),
    interval: fc.constantFrom('day', 'week', 'month', 'year') as fc.Arbitrary<RecurringCost['interval']>,
    intervalCount: fc.integer({ min: 1, max: 12 }),
  });
  const side = fc.record({ cost, quantity: fc.integer({ min: 1, max: 1000 }) });
  fc.assert(
    fc.property(side, side, (a, b) => {
      const same = costPerDay(a.cost, a.quantity) === costPerDay(b.cost, b.quantity);
      const downgrades = [timingOf(a, b), timingOf(b, a)].filter((timing) => timing === 'period_end').length;
      assert.equal(downgrades, same ? 0 : 1);
    }),
  );
});

test('only a recurring price with an amount has a cost', () => {
  assert.deepEqual(
    recurringCostOf({ unit_amount: 900, recurring: { interval: 'week', interval_count: 2 } }),
    {
      unitAmount: 900,
      interval: 'week',
      intervalCount: 2,
    },
  );
  assert.equal(recurringCostOf({ unit_amount: 900, recurring: null }), null);
  assert.equal(recurringCostOf({ unit_amount: null, recurring: { interval: 'month' } }), null);
});
