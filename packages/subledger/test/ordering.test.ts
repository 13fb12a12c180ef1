import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { API_VERSION } from '../src/stripe/index.ts';
import { type Handling, handlingOf } from '../src/sync/handlers.ts';
import {
  type Decision,
  type EventFacts,
  type Outcome,
  planBatch,
  type RowVersion,
  retryDelaySeconds,
} from '../src/sync/ordering.ts';
import { deliveryArbitrary, type HistoryEvent, ModelMirror } from './support/planner-histories.ts';
import { OLD_API_VERSION as OLD_API } from './support/stripe-timeline.ts';

const SEED = 20_240_611;
const KEY = 'customer|platform|false|cus_1';

const handling = (type: string): Handling => handlingOf(type, 'customer') as Handling;

/** `evt_b@10` is event `evt_b` created at second 10; the suffix names the type (updated by default). */
function event(
  spec: string,
  options: { type?: string; apiVersion?: string | null; objectKey?: string } = {},
): EventFacts {
  const [id, created] = spec.split('@') as [string, string];
  const type = options.type ?? 'customer.updated';
  return {
    id,
    type,
    created: Number(created),
    apiVersion: options.apiVersion === undefined ? API_VERSION : options.apiVersion,
    objectKey: options.objectKey ?? KEY,
    handling: handling(type),
  };
}
const created = (spec: string) => event(spec, { type: 'customer.created' });
const deleted = (spec: string) => event(spec, { type: 'customer.deleted' });
const row = (lastEventId: string | null, lastEventCreated: number, isDeleted = false): RowVersion => ({
  lastEventId,
  lastEventCreated,
  deleted: isDeleted,
});

type Expected =
  | { action: 'apply'; event: string }
  | { action: 'refetch'; reason: string; knownCreated: number }
  | { action: 'none' };

const apply = (id: string): Expected => ({ action: 'apply', event: id });
const refetch = (reason: string, knownCreated: number): Expected => ({
  action: 'refetch',
  reason,
  knownCreated,
});
const none: Expected = { action: 'none' };

const summary = (decision: Decision | undefined): Expected | undefined => {
  if (decision?.action === 'apply') return { action: 'apply', event: decision.event.id };
  return decision;
};

// One line per case: the batch, the row it meets, what happens to the row, and each event's outcome.
// biome-ignore format: a table reads best one case per line
const CASES: [string, EventFacts[], RowVersion | undefined, Expected, Record<string, Outcome>][] = [
  ['unknown row + .created → apply', [created('evt_a@10')], undefined, apply('evt_a'), { evt_a: 'applied' }],
  ['unknown row + update → refetch', [event('evt_a@10')], undefined, refetch('unknown_row', 10), { evt_a: 'refetch' }],
  ['unknown row + delete → tombstone', [deleted('evt_a@10')], undefined, apply('evt_a'), { evt_a: 'applied' }],
  ['newer than the row → apply', [event('evt_b@11')], row('evt_a', 10), apply('evt_b'), { evt_b: 'applied' }],
  ['older than the row → stale', [event('evt_b@9')], row('evt_a', 10), none, { evt_b: 'stale' }],
  ['same second as the row → refetch', [event('evt_b@10')], row('evt_a', 10), refetch('same_second', 10), { evt_b: 'refetch' }],
  ['same second as a fetched row → refetch', [event('evt_b@10')], row(null, 10), refetch('same_second', 10), { evt_b: 'refetch' }],
  ['the row’s own event again → stale', [event('evt_a@10')], row('evt_a', 10), none, { evt_a: 'stale' }],
  ['two events in one second → refetch', [event('evt_b@12'), event('evt_c@12')], row('evt_a', 10), refetch('same_second', 12), { evt_b: 'refetch', evt_c: 'refetch' }],
  ['.created and an update in one second → the update applies', [event('evt_b@12'), created('evt_a@12')], undefined, apply('evt_b'), { evt_a: 'superseded', evt_b: 'applied' }],
  ['.created and two updates in one second → refetch', [created('evt_a@12'), event('evt_b@12'), event('evt_c@12')], undefined, refetch('same_second', 12), { evt_a: 'refetch', evt_b: 'refetch', evt_c: 'refetch' }],
  ['.created and a delete in one second → refetch (the id may have been used again)', [created('evt_a@12'), deleted('evt_b@12')], undefined, refetch('same_second', 12), { evt_a: 'refetch', evt_b: 'refetch' }],
  ['a delete and a re-creation in one second, live row → refetch', [deleted('evt_b@12'), created('evt_c@12')], row('evt_a', 10), refetch('same_second', 12), { evt_b: 'refetch', evt_c: 'refetch' }],
  ['a delete and a re-creation in one second, deleted row → refetch', [deleted('evt_b@12'), created('evt_c@12')], row('evt_a', 10, true), refetch('same_second', 12), { evt_b: 'refetch', evt_c: 'refetch' }],
  ['a delete, a re-creation and an update in one second → refetch', [deleted('evt_b@12'), created('evt_c@12'), event('evt_d@12')], row('evt_a', 10), refetch('same_second', 12), { evt_b: 'refetch', evt_c: 'refetch', evt_d: 'refetch' }],
  ['a delete, then a re-creation a second later → the creation applies', [deleted('evt_b@11'), created('evt_c@12')], row('evt_a', 10), apply('evt_c'), { evt_b: 'superseded', evt_c: 'applied' }],
  ['an update in the second of the row’s .created → refetch', [event('evt_b@10')], row('evt_a', 10), refetch('same_second', 10), { evt_b: 'refetch' }],
  ['the row’s event and another in its second → refetch', [event('evt_a@10'), event('evt_b@10')], row('evt_a', 10), refetch('same_second', 10), { evt_a: 'refetch', evt_b: 'refetch' }],
  ['another api_version → refetch', [event('evt_b@11', { apiVersion: OLD_API })], row('evt_a', 10), refetch('api_version', 11), { evt_b: 'refetch' }],
  ['no api_version → refetch', [event('evt_b@11', { apiVersion: null })], row('evt_a', 10), refetch('api_version', 11), { evt_b: 'refetch' }],
  ['another api_version on .created → refetch', [event('evt_a@10', { type: 'customer.created', apiVersion: OLD_API })], undefined, refetch('api_version', 10), { evt_a: 'refetch' }],
  ['update after a tombstone → refetch', [event('evt_b@11')], row('evt_a', 10, true), refetch('after_delete', 11), { evt_b: 'refetch' }],
  ['delete after a tombstone → apply', [deleted('evt_b@11')], row('evt_a', 10, true), apply('evt_b'), { evt_b: 'applied' }],
  ['delete of a live row → apply', [deleted('evt_b@11')], row('evt_a', 10), apply('evt_b'), { evt_b: 'applied' }],
  ['coalesced: the newest applies', [event('evt_b@11'), event('evt_d@14'), event('evt_c@12')], row('evt_a', 10), apply('evt_d'), { evt_b: 'superseded', evt_c: 'superseded', evt_d: 'applied' }],
  ['coalesced with one older than the row', [event('evt_b@9'), event('evt_c@12')], row('evt_a', 10), apply('evt_c'), { evt_b: 'superseded', evt_c: 'applied' }],
  ['coalesced, all older → stale', [event('evt_b@8'), event('evt_c@9')], row('evt_a', 10), none, { evt_b: 'stale', evt_c: 'stale' }],
  ['coalesced, newest in the row’s second → refetch', [event('evt_b@9'), event('evt_c@10')], row('evt_a', 10), refetch('same_second', 10), { evt_b: 'refetch', evt_c: 'refetch' }],
  ['coalesced new row: .created then update → the update applies', [created('evt_a@10'), event('evt_b@11')], undefined, apply('evt_b'), { evt_a: 'superseded', evt_b: 'applied' }],
  ['coalesced new row: update then .created → the update applies', [event('evt_b@11'), created('evt_a@10')], undefined, apply('evt_b'), { evt_a: 'superseded', evt_b: 'applied' }],
  ['coalesced new row: updates without .created → refetch', [event('evt_a@10'), event('evt_b@11')], undefined, refetch('unknown_row', 11), { evt_a: 'refetch', evt_b: 'refetch' }],
  ['coalesced: update then delete → tombstone', [event('evt_b@11'), deleted('evt_c@12')], row('evt_a', 10), apply('evt_c'), { evt_b: 'superseded', evt_c: 'applied' }],
];

for (const [name, events, version, expected, outcomes] of CASES) {
  test(`planBatch: ${name}`, () => {
    const plan = planBatch(events, new Map(version ? [[KEY, version]] : []), API_VERSION);
    assert.deepEqual(summary(plan.decisions.get(KEY)), expected);
    assert.deepEqual(Object.fromEntries(plan.outcomes), outcomes);
  });
}

test('planBatch: objects Stripe announces with no creation event start from their first event', () => {
  for (const [type, objectType] of [
    ['invoice_payment.paid', 'invoice_payment'],
    ['entitlements.active_entitlement_summary.updated', 'entitlements.active_entitlement_summary'],
  ] as const) {
    const facts = { ...event('evt_a@10', { type }), handling: handlingOf(type, objectType) as Handling };
    const plan = planBatch([facts], new Map(), API_VERSION);
    assert.deepEqual(summary(plan.decisions.get(KEY)), apply('evt_a'), type);
  }
  const invoiceUpdate = { ...event('evt_a@10'), handling: handlingOf('invoice.paid', 'invoice') as Handling };
  const plan = planBatch([{ ...invoiceUpdate, type: 'invoice.paid' }], new Map(), API_VERSION);
  assert.deepEqual(summary(plan.decisions.get(KEY)), refetch('unknown_row', 10));
});

test('planBatch decides each object of a batch on its own', () => {
  const other = 'customer|platform|false|cus_2';
  const plan = planBatch(
    [event('evt_a@10'), event('evt_b@10', { objectKey: other }), event('evt_c@10', { objectKey: other })],
    new Map([
      [KEY, row('evt_0', 5)],
      [other, row('evt_1', 5)],
    ]),
    API_VERSION,
  );
  assert.deepEqual(summary(plan.decisions.get(KEY)), apply('evt_a'));
  assert.deepEqual(summary(plan.decisions.get(other)), refetch('same_second', 10));
  assert.deepEqual(Object.fromEntries(plan.outcomes), {
    evt_a: 'applied',
    evt_b: 'refetch',
    evt_c: 'refetch',
  });
});

test('property: any delivery of several histories never moves a row backwards and ends at the newest state', () => {
  fc.assert(
    fc.property(deliveryArbitrary, ({ histories, events, order, cuts, fetchAfter }) => {
      const mirror = new ModelMirror(histories);
      let batch: HistoryEvent[] = [];
      order.forEach((index, position) => {
        batch.push(events[index] as HistoryEvent);
        if (!cuts[position] && position < order.length - 1) return;
        mirror.apply(batch);
        batch = [];
        if (fetchAfter[position]) mirror.fetchAll();
      });
      mirror.fetchAll();
      for (const history of histories) {
        const row = mirror.rows.get(history.key);
        assert.equal(row?.state, history.events.length - 1, `${history.key} did not end at its newest state`);
        assert.equal(row?.deleted, history.endsDeleted);
      }
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

const objectKeys = [
  'customer|platform|false|cus_1',
  'customer|platform|false|cus_2',
  'customer|acct_1|false|cus_1',
];

const batchArbitrary = fc.uniqueArray(
  fc.record({
    id: fc.stringMatching(/^evt_[a-z0-9]{1,6}$/),
    created: fc.integer({ min: 1, max: 6 }),
    type: fc.constantFrom('customer.created', 'customer.updated', 'customer.deleted'),
    apiVersion: fc.constantFrom(API_VERSION, OLD_API),
    objectKey: fc.constantFrom(...objectKeys),
  }),
  { selector: (facts) => facts.id, maxLength: 12 },
);
const versionsArbitrary = fc.dictionary(
  fc.constantFrom(...objectKeys),
  fc.record({
    lastEventId: fc.option(fc.constantFrom('evt_a', 'evt_b'), { nil: null }),
    lastEventCreated: fc.integer({ min: 1, max: 6 }),
    deleted: fc.boolean(),
  }),
);

test('property: every event of a batch gets exactly one outcome, consistent with its object’s decision', () => {
  fc.assert(
    fc.property(batchArbitrary, versionsArbitrary, (specs, versions) => {
      const events = specs.map((spec) => ({ ...spec, handling: handling(spec.type) }));
      const plan = planBatch(events, new Map(Object.entries(versions)), API_VERSION);
      assert.deepEqual(new Set(plan.outcomes.keys()), new Set(events.map((facts) => facts.id)));
      assert.equal(plan.outcomes.size, events.length);
      assert.deepEqual(new Set(plan.decisions.keys()), new Set(events.map((facts) => facts.objectKey)));
      for (const [objectKey, decision] of plan.decisions) {
        const group = events.filter((facts) => facts.objectKey === objectKey);
        const outcomes = group.map((facts) => plan.outcomes.get(facts.id));
        if (decision.action === 'apply') {
          assert.equal(outcomes.filter((outcome) => outcome === 'applied').length, 1);
          assert.ok(outcomes.every((outcome) => outcome === 'applied' || outcome === 'superseded'));
          assert.equal(decision.event.created, Math.max(...group.map((facts) => facts.created)));
          assert.equal(decision.event.apiVersion, API_VERSION);
          const version = versions[objectKey];
          if (version) assert.ok(decision.event.created > version.lastEventCreated);
        } else {
          const expected = decision.action === 'refetch' ? 'refetch' : 'stale';
          assert.ok(outcomes.every((outcome) => outcome === expected));
        }
      }
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('retryDelaySeconds doubles from 1 s and stops at an hour', () => {
  assert.deepEqual([1, 2, 3, 4, 10, 12, 13, 100].map(retryDelaySeconds), [1, 2, 4, 8, 512, 2048, 3600, 3600]);
});

test('property: retryDelaySeconds is monotonic, positive and capped', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), (a, b) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      assert.ok(retryDelaySeconds(low) <= retryDelaySeconds(high));
      assert.ok(retryDelaySeconds(low) >= 1);
      assert.ok(retryDelaySeconds(high) <= 3600);
      assert.ok(Number.isInteger(retryDelaySeconds(high)));
    }),
    { seed: SEED },
  );
});
