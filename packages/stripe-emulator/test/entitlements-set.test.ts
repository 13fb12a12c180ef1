import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffEntitlements, entitledProducts, type SubscriptionLike } from '../src/catalog/entitlement-set.ts';

const subscription = (customer: unknown, status: string, prices: unknown[]): SubscriptionLike => ({
  customer,
  status,
  items: { data: prices.map((price) => ({ price })) },
});

describe('which products entitle a customer', () => {
  const priceProduct = (priceId: string) => ({ price_a: 'prod_a', price_b: 'prod_b' })[priceId] ?? null;

  const table: [string, SubscriptionLike[], string[]][] = [
    [
      'active subscription, price object',
      [subscription('cus_1', 'active', [{ product: 'prod_a' }])],
      ['prod_a'],
    ],
    ['trialing counts', [subscription('cus_1', 'trialing', [{ product: 'prod_a' }])], ['prod_a']],
    ['past_due counts', [subscription('cus_1', 'past_due', [{ product: 'prod_a' }])], ['prod_a']],
    ['canceled does not', [subscription('cus_1', 'canceled', [{ product: 'prod_a' }])], []],
    ['unpaid does not', [subscription('cus_1', 'unpaid', [{ product: 'prod_a' }])], []],
    ['incomplete does not', [subscription('cus_1', 'incomplete', [{ product: 'prod_a' }])], []],
    ['another customer does not', [subscription('cus_2', 'active', [{ product: 'prod_a' }])], []],
    ['customer as object', [subscription({ id: 'cus_1' }, 'active', [{ product: 'prod_a' }])], ['prod_a']],
    ['product as object', [subscription('cus_1', 'active', [{ product: { id: 'prod_b' } }])], ['prod_b']],
    ['price as id', [subscription('cus_1', 'active', ['price_a', 'price_b'])], ['prod_a', 'prod_b']],
    [
      'several subscriptions, deduplicated',
      [
        subscription('cus_1', 'active', [{ product: 'prod_a' }]),
        subscription('cus_1', 'trialing', [{ product: 'prod_a' }, { product: 'prod_b' }]),
      ],
      ['prod_a', 'prod_b'],
    ],
  ];
  for (const [name, subscriptions, expected] of table)
    it(name, () => {
      assert.deepEqual([...entitledProducts(subscriptions, 'cus_1', priceProduct)], expected);
    });
});

describe('entitlement changes', () => {
  const held = [
    { id: 'ent_1', feature: 'feat_a' },
    { id: 'ent_2', feature: 'feat_b' },
  ];

  it('keeps held entitlements, adds new features and removes lost ones', () => {
    assert.deepEqual(diffEntitlements(held, ['feat_b', 'feat_c']), {
      kept: [{ id: 'ent_2', feature: 'feat_b' }],
      added: ['feat_c'],
      removed: [{ id: 'ent_1', feature: 'feat_a' }],
    });
  });

  it('reports no change for the same set', () => {
    const change = diffEntitlements(held, ['feat_a', 'feat_b']);
    assert.equal(change.added.length + change.removed.length, 0);
  });
});
