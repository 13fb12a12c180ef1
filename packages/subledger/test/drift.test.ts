import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { reconcileReport, unfixedDrift } from '../src/cli/reconcile.ts';
import { type DriftItem, differingFields, driftOf, jsonEqual, type MirrorState } from '../src/sync/drift.ts';
import type { StripeObject } from '../src/sync/envelope.ts';
import type { KindName } from '../src/sync/kinds.ts';

const customer = { id: 'cus_1', object: 'customer', email: 'a@example.com', metadata: { plan: 'pro' } };
const live = (data: unknown): MirrorState => ({ data, deleted: false });
const tombstone: MirrorState = { data: { id: 'cus_1', object: 'customer', deleted: true }, deleted: true };
const SUMMARY: KindName = 'entitlements.active_entitlement_summary';
const summary = (keys: string[]) => ({
  object: SUMMARY,
  customer: 'cus_1',
  entitlements: {
    object: 'list',
    data: keys.map((key) => ({ id: `ent_${key}`, lookup_key: key })),
    has_more: false,
    url: '/v1/customer/cus_1/entitlements',
  },
  livemode: false,
});

describe('driftOf', () => {
  const cases: [string, KindName, StripeObject | null, MirrorState | null, DriftItem | null][] = [
    ['equal objects', 'customer', customer, live(customer), null],
    [
      'key order does not matter',
      'customer',
      customer,
      live({ metadata: { plan: 'pro' }, email: 'a@example.com', object: 'customer', id: 'cus_1' }),
      null,
    ],
    [
      'a changed field',
      'customer',
      { ...customer, email: 'b@example.com' },
      live(customer),
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['email'] },
    ],
    [
      'a field Stripe added',
      'customer',
      { ...customer, name: 'A' },
      live(customer),
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['name'] },
    ],
    [
      'null is not absent',
      'customer',
      { ...customer, name: null },
      live(customer),
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['name'] },
    ],
    [
      'a nested change is reported at its top-level field',
      'customer',
      { ...customer, metadata: { plan: 'team' } },
      live(customer),
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['metadata'] },
    ],
    ['no row', 'customer', customer, null, { kind: 'customer', id: 'cus_1', problem: 'missing_in_mirror' }],
    [
      'a tombstone for a live object',
      'customer',
      customer,
      tombstone,
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['deleted'] },
    ],
    [
      'a live row for a deleted object',
      'customer',
      null,
      live(customer),
      { kind: 'customer', id: 'cus_1', problem: 'missing_in_stripe' },
    ],
    ['a tombstone for a deleted object', 'customer', null, tombstone, null],
    ['neither has it', 'customer', null, null, null],
    ['an empty summary and no row agree', SUMMARY, summary([]), null, null],
    [
      'entitlements and no row',
      SUMMARY,
      summary(['reports']),
      null,
      { kind: SUMMARY, id: 'cus_1', problem: 'missing_in_mirror' },
    ],
    ['an empty summary row for a deleted customer', SUMMARY, null, live(summary([])), null],
    [
      'entitlements left for a deleted customer',
      SUMMARY,
      null,
      live(summary(['reports'])),
      { kind: SUMMARY, id: 'cus_1', problem: 'missing_in_stripe' },
    ],
    [
      'an entitlement lost while its webhook was dropped',
      SUMMARY,
      summary([]),
      live(summary(['reports'])),
      { kind: SUMMARY, id: 'cus_1', problem: 'different', fields: ['entitlements'] },
    ],
    [
      'a field only Stripe changes, without an event, is silent drift',
      'customer',
      { ...customer, next_invoice_sequence: 3 },
      live({ ...customer, next_invoice_sequence: 2 }),
      {
        kind: 'customer',
        id: 'cus_1',
        problem: 'different',
        fields: ['next_invoice_sequence'],
        silent: true,
      },
    ],
    [
      'beside another field it is not',
      'customer',
      { ...customer, email: 'b@example.com', next_invoice_sequence: 3 },
      live({ ...customer, next_invoice_sequence: 2 }),
      { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['email', 'next_invoice_sequence'] },
    ],
    [
      'nor on a kind Stripe does not change it silently',
      'product',
      { ...customer, object: 'product', next_invoice_sequence: 3 },
      live({ ...customer, object: 'product', next_invoice_sequence: 2 }),
      { kind: 'product', id: 'cus_1', problem: 'different', fields: ['next_invoice_sequence'] },
    ],
  ];
  for (const [name, kind, stripe, mirror, expected] of cases)
    it(name, () => assert.deepEqual(driftOf(kind, 'cus_1', stripe, mirror), expected));
});

describe('what reconcile reports and exits with', () => {
  const missed: DriftItem = { kind: 'customer', id: 'cus_1', problem: 'different', fields: ['email'] };
  const silent: DriftItem = {
    kind: 'customer',
    id: 'cus_2',
    problem: 'different',
    fields: ['next_invoice_sequence'],
    silent: true,
  };
  const result = (drift: DriftItem[], fixed = 0) => ({ checked: { customer: 5 }, drift, fixed });

  it('silent drift alone leaves nothing to exit 2 for; missed drift does', () => {
    assert.equal(unfixedDrift(result([silent]), false), 0);
    assert.equal(unfixedDrift(result([silent, missed]), false), 1);
  });

  it('with --fix, whatever was not fixed is left, silent or not', () => {
    assert.equal(unfixedDrift(result([silent, missed], 2), true), 0);
    assert.equal(unfixedDrift(result([silent, missed], 1), true), 1);
  });

  it('names silent drift as such', () => {
    assert.deepEqual(reconcileReport(result([missed, silent]), false), [
      'reconcile: 5 objects checked, 2 drifted (1 only in fields changed by Stripe without an event)',
      'customer (2)',
      '  cus_1 different: email',
      '  cus_2 different: next_invoice_sequence (changed by Stripe without an event)',
    ]);
  });
});

const json = fc.jsonValue();
const record = fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 6 });

describe('the comparison, for any JSON', () => {
  it('an object stored as jsonb (parsed back, keys reordered) is not drift', () => {
    fc.assert(
      fc.property(record, (object) => {
        const stored = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(object).reverse())));
        assert.equal(driftOf('product', 'prod_1', object, live(stored)), null);
      }),
    );
  });

  it('is symmetric and names exactly the fields whose values differ', () => {
    fc.assert(
      fc.property(record, record, (a, b) => {
        const fields = differingFields(a, b);
        assert.deepEqual(fields, differingFields(b, a));
        for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
          assert.equal(fields.includes(key), !jsonEqual(a[key], b[key]));
      }),
    );
  });

  it('agrees with comparing canonical JSON text', () => {
    const canonical = (value: unknown): string =>
      JSON.stringify(value, (_, inner) =>
        inner && typeof inner === 'object' && !Array.isArray(inner)
          ? Object.fromEntries(Object.entries(inner).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
          : inner,
      );
    fc.assert(
      fc.property(json, json, (a, b) => assert.equal(jsonEqual(a, b), canonical(a) === canonical(b))),
    );
    fc.assert(fc.property(json, (a) => assert.ok(jsonEqual(a, JSON.parse(JSON.stringify(a))))));
  });
});
