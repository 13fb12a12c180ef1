import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { defineCatalog } from '../src/catalog/index.ts';
import { parseTopUp } from '../src/credits/grant-sources.ts';
import { grantsOfInvoice, type InvoiceLine } from '../src/credits/plan-grants.ts';

const catalog = defineCatalog({
  features: {
    ai: { type: 'credits', name: 'AI credits', period: 'month' },
    images: { type: 'credits', name: 'Images', period: 'month' },
    sso: { type: 'boolean', name: 'SSO' },
  },
  plans: {
    starter: { name: 'Starter', features: { ai: { grant: 100 }, sso: true } },
    max: { name: 'Max', features: { ai: { grant: 1000, rollover: { cap: 300 } }, images: { grant: 10 } } },
    plain: { name: 'Plain', features: { sso: true } },
  },
});

const JAN_1 = Date.UTC(2026, 0, 1) / 1000;
const FEB_1 = Date.UTC(2026, 1, 1) / 1000;
const JAN_16 = Date.UTC(2026, 0, 16) / 1000;

const line = (plan: string | null, overrides: Partial<InvoiceLine> = {}): InvoiceLine => ({
  plan,
  amount: 1000,
  quantity: 1,
  periodStart: JAN_1,
  periodEnd: FEB_1,
  proration: false,
  ...overrides,
});

const invoice = (billingReason: string, lines: InvoiceLine[]) => ({ id: 'in_1', billingReason, lines });

test('a new subscription grants each credits feature of its plan per seat, until the period ends', () => {
  assert.deepEqual(grantsOfInvoice(catalog, invoice('subscription_create', [line('max', { quantity: 2 })])), [
    { creditType: 'ai', amount: 2000, expiresAt: FEB_1, rollover: null },
    { creditType: 'images', amount: 20, expiresAt: FEB_1, rollover: null },
  ]);
  assert.deepEqual(grantsOfInvoice(catalog, invoice('subscription_create', [line('plain'), line(null)])), []);
});

test('a renewal settles the previous periods: carried up to the rollover cap, or 0 without rollover', () => {
  const [ai, images] = grantsOfInvoice(catalog, invoice('subscription_cycle', [line('max')]));
  assert.deepEqual(ai?.rollover, { cap: 300, periodStart: JAN_1 });
  assert.deepEqual(images?.rollover, { cap: 0, periodStart: JAN_1 });
  const [starter] = grantsOfInvoice(catalog, invoice('subscription_cycle', [line('starter')]));
  assert.deepEqual(starter?.rollover, { cap: 0, periodStart: JAN_1 });
});

test('prorations: an upgrade half-way grants half the difference; seats added grant their share; a downgrade nothing', () => {
  const upgrade = grantsOfInvoice(
    catalog,
    invoice('subscription_update', [
      line('starter', { amount: -500, periodStart: JAN_16, proration: true }),
      line('max', { amount: 2500, periodStart: JAN_16, proration: true }),
    ]),
  );
  // Jan 16 → Feb 1 is 16 of January's 31 days.
  assert.deepEqual(
    upgrade.map((grant) => [grant.creditType, grant.amount, grant.rollover]),
    [
      ['ai', Math.floor((900 * 16) / 31), null],
      ['images', Math.floor((10 * 16) / 31), null],
    ],
  );
  const seats = grantsOfInvoice(
    catalog,
    invoice('subscription_update', [
      line('starter', { amount: -1500, quantity: 3, periodStart: JAN_16, proration: true }),
      line('starter', { amount: 2500, quantity: 5, periodStart: JAN_16, proration: true }),
    ]),
  );
  assert.deepEqual(
    seats.map((grant) => grant.amount),
    [Math.floor((200 * 16) / 31)],
  );
  const downgrade = grantsOfInvoice(
    catalog,
    invoice('subscription_update', [
      line('max', { amount: -2500, periodStart: JAN_16, proration: true }),
      line('starter', { amount: 500, periodStart: JAN_16, proration: true }),
    ]),
  );
  assert.deepEqual(downgrade, []);
});

test('property: a proration never grants more than a full period of the plan, nor a negative amount', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 31 * 86_400 }),
      fc.integer({ min: 1, max: 50 }),
      fc.constantFrom('starter', 'max'),
      (covered, quantity, plan) => {
        const grants = grantsOfInvoice(
          catalog,
          invoice('subscription_update', [
            line(plan, { quantity, periodStart: FEB_1 - covered, proration: true }),
          ]),
        );
        const full = (plan === 'max' ? 1000 : 100) * quantity;
        const ai = grants.find((grant) => grant.creditType === 'ai')?.amount ?? 0;
        return ai >= 0 && ai <= full && grants.every((grant) => grant.amount > 0);
      },
    ),
  );
});

test('a top-up names its credit type and a positive whole amount', () => {
  assert.deepEqual(parseTopUp('ai:500'), { creditType: 'ai', amount: 500 });
  for (const bad of ['ai', 'ai:0', 'ai:-5', 'ai:1.5', 'AI:5', ':5', 'ai:5:6', 'ai:99999999999999999'])
    assert.equal(parseTopUp(bad), null, bad);
});
