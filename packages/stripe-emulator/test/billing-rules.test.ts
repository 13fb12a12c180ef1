import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatAmount, recurringLine, unusedTimeLine } from '../src/billing/describe.ts';
import { checkPolicy, DEFAULT_DUNNING, nextRetryAt } from '../src/billing/dunning.ts';
import { amountFor, type PriceTerms, type Tier } from '../src/billing/pricing.ts';
import { prorate, remainingShare } from '../src/billing/proration.ts';
import {
  type DueAction,
  firstDue,
  INCOMPLETE_WINDOW_SECONDS,
  invoiceActions,
  type SubscriptionView,
  subscriptionActions,
} from '../src/billing/schedule.ts';

const perUnit = (unit: string, transform: PriceTerms['transform_quantity'] = null): PriceTerms => ({
  billing_scheme: 'per_unit',
  unit_amount_decimal: unit,
  tiers_mode: null,
  transform_quantity: transform,
});
const tiered = (mode: 'volume' | 'graduated'): PriceTerms => ({
  billing_scheme: 'tiered',
  unit_amount_decimal: null,
  tiers_mode: mode,
  transform_quantity: null,
});
const tiers: Tier[] = [
  { up_to: 5, unit_amount_decimal: '1000', flat_amount_decimal: null },
  { up_to: 10, unit_amount_decimal: '800', flat_amount_decimal: '500' },
  { up_to: null, unit_amount_decimal: '500', flat_amount_decimal: null },
];

describe('pricing', () => {
  it('charges per unit, per package and by tiers', () => {
    const table: [string, PriceTerms, number, number][] = [
      ['per unit', perUnit('2500'), 3, 7500],
      ['decimal unit, rounded once', perUnit('0.5'), 3, 2],
      ['packages rounded up', perUnit('1000', { divide_by: 10, round: 'up' }), 11, 2000],
      ['packages rounded down', perUnit('1000', { divide_by: 10, round: 'down' }), 19, 1000],
      ['volume, first tier', tiered('volume'), 5, 5000],
      ['volume, all units at the second tier', tiered('volume'), 7, 7 * 800 + 500],
      ['volume, last tier', tiered('volume'), 12, 12 * 500],
      ['graduated', tiered('graduated'), 12, 5 * 1000 + 5 * 800 + 500 + 2 * 500],
      ['graduated, none', tiered('graduated'), 0, 0],
    ];
    for (const [name, terms, quantity, expected] of table)
      assert.equal(amountFor(terms, tiers, quantity), expected, name);
  });
});

describe('proration', () => {
  const period = { start: 1_000, end: 2_000 };

  it('shares an amount by the time left in the period', () => {
    const table: [number, number, number][] = [
      [2500, 1_000, 2500],
      [2500, 1_500, 1250],
      [2500, 2_000, 0],
      [1000, 1_333, 667],
      [2500, 500, 2500],
    ];
    for (const [amount, at, expected] of table)
      assert.equal(remainingShare(amount, period, at), expected, `${amount}@${at}`);
  });

  it('credits the old terms and charges the new ones', () => {
    assert.deepEqual(prorate({ amount: 1000, period }, { amount: 3000, period }, 1_500), {
      credit: -500,
      debit: 1500,
    });
    assert.deepEqual(prorate(null, { amount: 3000, period }, 1_750), { credit: 0, debit: 750 });
    assert.deepEqual(prorate({ amount: 3000, period }, null, 1_750), { credit: -750, debit: 0 });
  });

  it('an unchanged item prorates to nothing, whenever the change happens', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1_000, max: 2_000 }),
        (amount, at) => {
          const { credit, debit } = prorate({ amount, period }, { amount, period }, at);
          assert.equal(credit + debit, 0);
          assert.ok(debit <= amount);
        },
      ),
    );
  });
});

describe('dunning schedule', () => {
  it('retries 3, 5 and 7 days after the first failure, then gives up', () => {
    const first = 1_700_000_000;
    const table: [number, number | null][] = [
      [1, first + 3 * 86_400],
      [2, first + 5 * 86_400],
      [3, first + 7 * 86_400],
      [4, null],
    ];
    for (const [failures, expected] of table)
      assert.equal(nextRetryAt(DEFAULT_DUNNING, first, failures), expected);
  });

  it('rejects schedules that do not move forward', () => {
    assert.throws(() => checkPolicy({ ...DEFAULT_DUNNING, retryDays: [3, 3] }), RangeError);
    assert.throws(() => checkPolicy({ ...DEFAULT_DUNNING, retryDays: [0] }), RangeError);
    assert.deepEqual(checkPolicy({ ...DEFAULT_DUNNING, retryDays: [] }).retryDays, []);
  });
});

describe('due work', () => {
  const base: SubscriptionView = {
    id: 'sub_1',
    status: 'active',
    created: 1_000,
    trial_start: null,
    trial_end: null,
    cancel_at: null,
    pause_collection: null,
    periodEnd: 5_000,
    trialWillEndSentFor: null,
    phaseEnd: null,
  };
  const kinds = (actions: DueAction[]) => actions.map((action) => `${action.kind}@${action.at}`);

  it('reads the next work off each state', () => {
    const table: [string, Partial<SubscriptionView>, string[]][] = [
      ['active renews at period end', {}, ['renew@5000']],
      ['past_due still renews', { status: 'past_due' }, ['renew@5000']],
      [
        'incomplete expires after 23 hours',
        { status: 'incomplete' },
        [`expire_incomplete@${1_000 + INCOMPLETE_WINDOW_SECONDS}`],
      ],
      [
        'trialing: notice three days before, then the end',
        { status: 'trialing', trial_start: 1_000, trial_end: 1_000 + 10 * 86_400 },
        [`trial_will_end@${1_000 + 7 * 86_400}`, `end_trial@${1_000 + 10 * 86_400}`],
      ],
      [
        'a short trial gets its notice at its start',
        { status: 'trialing', trial_start: 1_000, trial_end: 1_000 + 86_400 },
        ['trial_will_end@1000', `end_trial@${1_000 + 86_400}`],
      ],
      [
        'the notice goes once per trial end',
        { status: 'trialing', trial_start: 1_000, trial_end: 90_000, trialWillEndSentFor: 90_000 },
        ['end_trial@90000'],
      ],
      ['scheduled cancel', { cancel_at: 5_000 }, ['cancel@5000', 'renew@5000']],
      ['a schedule phase ends', { phaseEnd: 5_000 }, ['schedule_phase@5000', 'renew@5000']],
      [
        'paused collection resumes',
        { pause_collection: { resumes_at: 3_000 } },
        ['renew@5000', 'resume_collection@3000'],
      ],
      ['paused status waits', { status: 'paused' }, []],
      ['canceled is done', { status: 'canceled', cancel_at: 5_000 }, []],
    ];
    for (const [name, change, expected] of table)
      assert.deepEqual(kinds(subscriptionActions({ ...base, ...change })), expected, name);
  });

  it('picks the earliest due action, a cancellation before a renewal at the same time', () => {
    const actions = subscriptionActions({ ...base, cancel_at: 5_000 });
    assert.equal(firstDue(actions, 4_999), null);
    assert.equal(firstDue(actions, 5_000)?.kind, 'cancel');
    const phased = subscriptionActions({ ...base, phaseEnd: 5_000 });
    assert.equal(firstDue(phased, 5_000)?.kind, 'schedule_phase', 'the next phase comes before its renewal');
    const invoiceWork = invoiceActions({
      id: 'in_1',
      status: 'open',
      automatically_finalizes_at: null,
      next_payment_attempt: 4_000,
      collection_method: 'charge_automatically',
    });
    assert.equal(firstDue([...actions, ...invoiceWork], 10_000)?.kind, 'retry_payment');
    assert.deepEqual(
      kinds(
        invoiceActions({
          id: 'in_2',
          status: 'draft',
          auto_advance: true,
          automatically_finalizes_at: 8_600,
          next_payment_attempt: null,
          collection_method: 'charge_automatically',
        }),
      ),
      ['finalize_invoice@8600'],
    );
  });
});

describe('line descriptions', () => {
  it('reads like Stripe', () => {
    const subject = { productName: 'Pro', unitLabel: null, quantity: 2 };
    assert.equal(
      recurringLine(subject, 2500, 'usd', { interval: 'month', intervalCount: 1 }),
      '2 × Pro (at $25.00 / month)',
    );
    assert.equal(
      recurringLine({ ...subject, unitLabel: 'seat' }, 1000, 'eur', { interval: 'month', intervalCount: 3 }),
      '2 seat × Pro (at €10.00 every 3 months)',
    );
    assert.equal(formatAmount(2500, 'jpy'), '¥2,500');
    assert.equal(
      unusedTimeLine({ ...subject, quantity: 1 }, Date.UTC(2025, 10, 10) / 1000),
      'Unused time on Pro after 10 Nov 2025',
    );
  });
});
