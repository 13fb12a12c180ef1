import assert from 'node:assert/strict';
import { it, describe as suite } from 'node:test';
import { type CompareOptions, compareShape, describe, jsonType } from './compare-shape.ts';
import { judge } from './judge.ts';
import { SdkTypes } from './sdk-types.ts';

type Row = { name: string; expected: unknown; actual: unknown; options?: CompareOptions; diff: string[] };

const rows: Row[] = [
  { name: 'identical shapes, other values', expected: { a: 1, b: 'x' }, actual: { a: 2, b: 'y' }, diff: [] },
  { name: 'missing key', expected: { a: 1, b: 2 }, actual: { a: 1 }, diff: ['-b'] },
  { name: 'invented key', expected: { a: 1 }, actual: { a: 1, c: 3 }, diff: ['+c'] },
  { name: 'type mismatch', expected: { a: 1 }, actual: { a: '1' }, diff: ['a: number ≠ string'] },
  { name: 'null on the reference side', expected: { a: null }, actual: { a: { b: 1 } }, diff: [] },
  { name: 'null on the emulator side', expected: { a: { b: 1 } }, actual: { a: null }, diff: [] },
  {
    name: 'nested difference',
    expected: { a: { b: { c: 1 } } },
    actual: { a: { b: { d: 1 } } },
    diff: ['-a.b.c', '+a.b.d'],
  },
  {
    name: 'id where the reference expanded',
    expected: { customer: { id: 'cus_1', object: 'customer' } },
    actual: { customer: 'cus_2' },
    diff: [],
  },
  {
    name: 'object where the reference has an id',
    expected: { customer: 'cus_1' },
    actual: { customer: { id: 'cus_2' } },
    diff: [],
  },
  {
    name: 'an id where expand[] asked for the object',
    expected: { latest_invoice: { id: 'in_1' } },
    actual: { latest_invoice: 'in_2' },
    options: { expanded: ['latest_invoice'] },
    diff: ['latest_invoice: object ≠ string'],
  },
  {
    name: 'expansion through a list uses the expand[] spelling',
    expected: { refunds: { data: [{ balance_transaction: { id: 'txn_1' } }] } },
    actual: { refunds: { data: [{ balance_transaction: 'txn_2' }] } },
    options: { expanded: ['refunds.data.balance_transaction'] },
    diff: ['refunds.data[].balance_transaction: object ≠ string'],
  },
  {
    name: 'a string that is not an expansion',
    expected: { a: { b: 1 } },
    actual: { a: 'x' },
    diff: ['a: object ≠ string'],
  },
  {
    name: 'array elements against the reference element',
    expected: { l: [{ a: 1 }] },
    actual: { l: [{ a: 1 }, { b: 2 }] },
    diff: ['-l[].a', '+l[].b'],
  },
  {
    name: 'one report per difference across elements',
    expected: [{ a: 1 }],
    actual: [{}, {}, {}],
    diff: ['-[].a'],
  },
  { name: 'empty reference array tells nothing', expected: { l: [] }, actual: { l: [{ a: 1 }] }, diff: [] },
  { name: 'empty emulator array tells nothing', expected: { l: [{ a: 1 }] }, actual: { l: [] }, diff: [] },
  {
    name: 'elements matched by object name',
    expected: [
      { object: 'a', x: 1 },
      { object: 'b', y: 1 },
    ],
    actual: [{ object: 'b', y: 2 }],
    diff: [],
  },
  {
    name: 'maps compare by type only',
    expected: { metadata: { a: '1' } },
    actual: { metadata: { b: '2' } },
    options: { isMap: (p) => p.at(-1) === 'metadata' },
    diff: [],
  },
  {
    name: 'opaque paths compare by type only',
    expected: { data: { object: { a: 1 } } },
    actual: { data: { object: { b: 1 } } },
    options: { isOpaque: (p) => p.join('.') === 'data.object' },
    diff: [],
  },
  { name: 'array versus object', expected: { a: [] }, actual: { a: {} }, diff: ['a: array ≠ object'] },
  { name: 'boolean versus number', expected: { a: true }, actual: { a: 0 }, diff: ['a: boolean ≠ number'] },
];

suite('compareShape', () => {
  for (const row of rows)
    it(row.name, () => {
      assert.deepEqual(compareShape(row.expected, row.actual, row.options).map(describe), row.diff);
    });

  it('names JSON types', () => {
    assert.deepEqual([null, undefined, 'a', 1, true, [], {}].map(jsonType), [
      'null',
      'null',
      'string',
      'number',
      'boolean',
      'array',
      'object',
    ]);
  });
});

suite('judge, with the SDK declarations as tie-breaker', () => {
  const sdk = SdkTypes.installed();
  const root = sdk.objectType('customer');
  assert.ok(root);
  const verdicts = (reference: unknown, actual: unknown) =>
    judge(reference, actual, { sdk, root, object: 'customer' }).map((f) => `${f.status} ${f.note}`);

  it('fails a key the SDK declares and the emulator lacks', () => {
    assert.deepEqual(verdicts({ email: 'a' }, {}), ['failure -email']);
  });
  it('notes a reference key the SDK does not declare', () => {
    assert.deepEqual(verdicts({ sources: {}, legacy_field: 1 }, { sources: {} }), [
      'reference-only -legacy_field',
    ]);
  });
  it('notes an emulator key the SDK declares and the reference lacks', () => {
    assert.deepEqual(verdicts({}, { business_name: 'x' }), ['sdk-only +business_name']);
  });
  it('fails an invented key', () => {
    assert.deepEqual(verdicts({}, { made_up: 1 }), ['failure +made_up']);
  });
  it('reads nested declarations and maps from the SDK', () => {
    assert.deepEqual(
      verdicts(
        {
          invoice_settings: { footer: null, old: 1 },
          metadata: { a: '1' },
          invoice_credit_balance: { usd: 1 },
        },
        {
          invoice_settings: { footer: null, rendering_options: null },
          metadata: {},
          invoice_credit_balance: { eur: 2 },
        },
      ),
      ['reference-only -invoice_settings.old', 'sdk-only +invoice_settings.rendering_options'],
    );
  });
  it('applies an explicit allowance', () => {
    const findings = judge(
      { a: 1 },
      {},
      {
        sdk,
        root,
        object: 'customer',
        allowances: [{ object: 'customer', path: 'a', reason: 'because' }],
      },
    );
    assert.deepEqual(
      findings.map((f) => f.status),
      ['allowed'],
    );
  });
});
