import fc from 'fast-check';
import type { Step } from './timeline-sync.ts';

/**
 * Schedules of steps for `TimelineSync`: changes, deliveries that are duplicated, reordered and late,
 * and reads with what happens while they are on their way.
 */

export type ScheduleShape = {
  /** How many of `CUSTOMERS` the steps are about. */
  customers: number;
  /** Seconds Stripe's clock moves on before a step. */
  tick: fc.Arbitrary<number>;
  weights: { change: number; deliver: number; refetch: number; reconcile: number };
  /** Events (counted back from the newest) applied by a batch racing a reconcile's write. */
  racing: fc.Arbitrary<number[]>;
  maxSteps: number;
};

/** A read takes far less than a second: what happens while it is on its way is mostly of its second. */
export const MOSTLY_SAME_SECOND = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, fc.constant(1));

/** True once in `odds` times; shrinks to false. */
export const rarely = (odds: number) => fc.nat(odds - 1).map((n) => n === odds - 1);

/** Counted back from the newest event sent: mostly the newest, as Stripe mostly delivers promptly. */
const pick = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, fc.nat(5));

export function scheduleOf(shape: ScheduleShape): fc.Arbitrary<Step[]> {
  const customer = fc.nat(shape.customers - 1);
  const changeAfter = (tick: fc.Arbitrary<number>): fc.Arbitrary<Step> =>
    fc.record({
      tick,
      do: fc.constant('change'),
      customer,
      // Rare: a deleted customer changes no more.
      deletes: rarely(8),
      oldApi: rarely(6),
    });
  const deliverAfter = (tick: fc.Arbitrary<number>): fc.Arbitrary<Step> =>
    fc.record({ tick, do: fc.constant('deliver'), picks: fc.array(pick, { minLength: 1, maxLength: 3 }) });
  const whileReading = fc.array(fc.oneof(changeAfter(MOSTLY_SAME_SECOND), deliverAfter(MOSTLY_SAME_SECOND)), {
    maxLength: 3,
  });
  const refetch: fc.Arbitrary<Step> = fc.record({
    tick: shape.tick,
    do: fc.constant('refetch'),
    asks: fc.subarray([...Array(shape.customers).keys()]),
    whileReading,
  });
  const reconcile: fc.Arbitrary<Step> = fc.record({
    tick: shape.tick,
    do: fc.constant('reconcile'),
    customer,
    whileReading,
    racing: shape.racing,
  });
  const { weights } = shape;
  return fc.array(
    fc.oneof(
      { arbitrary: changeAfter(shape.tick), weight: weights.change },
      { arbitrary: deliverAfter(shape.tick), weight: weights.deliver },
      { arbitrary: refetch, weight: weights.refetch },
      { arbitrary: reconcile, weight: weights.reconcile },
    ),
    { minLength: 1, maxLength: shape.maxSteps },
  );
}
