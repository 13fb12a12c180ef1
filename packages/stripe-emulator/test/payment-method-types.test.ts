import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import qs from 'qs';
import type Stripe from 'stripe';
import { parseIban } from '../src/payments/iban.ts';
import { bankFingerprint, routingNumberHolds } from '../src/payments/payment-method-types.ts';
import { REFERENCE_DIR, requireReferenceData } from './conformance/references.ts';
import { type Harness, startHarness } from './support.ts';

type Recording = {
  request: { method: string; uri: string; body: string };
  status: number;
  stripe_version: string;
  body: Record<string, unknown> & { type: string };
};

/** The recorded `POST /v1/payment_methods` pairs at the current API (pay-rails `test_stripe_saves_*`). */
function recordedCreates(): { name: string; recording: Recording }[] {
  const root = `${REFERENCE_DIR}recorded/pay-rails/`;
  return readdirSync(root)
    .flatMap((folder) =>
      readdirSync(`${root}${folder}`).map((file) => ({
        name: `${folder}/${file}`,
        path: `${root}${folder}/${file}`,
      })),
    )
    .map(({ name, path }) => ({ name, recording: JSON.parse(readFileSync(path, 'utf8')) as Recording }))
    .filter(
      ({ recording }) =>
        recording.request.uri === 'https://api.stripe.com/v1/payment_methods' &&
        recording.request.method.toUpperCase() === 'POST' &&
        recording.stripe_version >= '2025-10-29',
    );
}

describe('IBAN reading', () => {
  // biome-ignore format: one IBAN per line reads as a table
  const cases: [iban: string, country: string, bank: string, branch: string, last4: string][] = [
    ['DK5000400440116243', 'DK', '0040', '', '6243'], // the recorded sepa_debit response
    ['DE89 3704 0044 0532 0130 00', 'DE', '37040044', '', '3000'],
    ['FR1420041010050500013M02606', 'FR', '20041', '01005', '2606'],
    ['IT40S0542811101000000123456', 'IT', '05428', '11101', '3456'],
    ['es0700120345030000067890', 'ES', '0012', '0345', '7890'],
    ['NL39RABO0300065264', 'NL', 'RABO', '', '5264'],
  ];
  for (const [iban, country, bank, branch, last4] of cases)
    it(`reads ${iban}`, () => {
      const parsed = parseIban(iban);
      assert.notEqual(typeof parsed, 'string');
      assert.deepEqual(
        typeof parsed === 'string'
          ? parsed
          : [parsed.country, parsed.bankCode, parsed.branchCode, parsed.last4],
        [country, bank, branch, last4],
      );
    });

  it('says what is wrong with a bad IBAN', () => {
    assert.equal(parseIban('DK5000400440116244'), 'bad_check_digits');
    assert.equal(parseIban('DK50004004401162'), 'wrong_length');
    assert.equal(parseIban('US5000400440116243'), 'unsupported_country');
  });
});

describe('bank details rules', () => {
  it('checks ABA routing numbers with their 3-7-1 check digit', () => {
    assert.equal(routingNumberHolds('110000000'), true);
    assert.equal(routingNumberHolds('021000021'), true);
    assert.equal(routingNumberHolds('021000022'), false);
    assert.equal(routingNumberHolds('11000000'), false);
  });

  it('gives the same details the same 16-character fingerprint', () => {
    assert.match(bankFingerprint('sepa_debit', 'DK5000400440116243'), /^[A-Za-z0-9]{16}$/);
    assert.equal(bankFingerprint('a', 'b'), bankFingerprint('a', 'b'));
    assert.notEqual(bankFingerprint('a', 'b'), bankFingerprint('a', 'c'));
  });
});

describe('non-card payment methods through the official SDK', () => {
  let h: Harness;
  before(async () => {
    requireReferenceData();
    h = await startHarness();
  });
  after(() => h.close());

  it('answers each recorded create with the recorded sub-object and billing details', async () => {
    const recorded = recordedCreates();
    assert.ok(recorded.length >= 15, `found ${recorded.length} recordings`);
    for (const { name, recording } of recorded) {
      const params = qs.parse(recording.request.body) as unknown as Stripe.PaymentMethodCreateParams;
      const created = (await h.stripe.paymentMethods.create(params)) as unknown as Record<string, unknown>;
      const expected = recording.body;
      const type = expected.type;
      assert.equal(created.type, type, name);
      assert.deepEqual(
        Object.keys(created),
        [...Object.keys(expected), 'customer_account'].sort(byStripeOrder),
        name,
      );
      assert.deepEqual(created.billing_details, expected.billing_details, name);
      const { fingerprint, ...details } = created[type] as Record<string, unknown>;
      const { fingerprint: expectedFingerprint, ...expectedDetails } = expected[type] as Record<
        string,
        unknown
      >;
      assert.deepEqual(details, expectedDetails, name);
      if (expectedFingerprint === undefined) assert.equal(fingerprint, undefined, name);
      else assert.match(String(fingerprint), /^[A-Za-z0-9]{16}$/, name);
    }
  });

  it('creates the bank debits the recordings lack: us_bank_account, bacs_debit, au_becs_debit', async () => {
    const billing_details = { name: 'Jenny Rosen', email: 'jenny@example.com' };
    const ach = await h.stripe.paymentMethods.create({
      type: 'us_bank_account',
      us_bank_account: {
        routing_number: '110000000',
        account_number: '000123456789',
        account_holder_type: 'company',
      },
      billing_details,
    });
    const { fingerprint: achFingerprint, ...achDetails } = ach.us_bank_account ?? {};
    assert.match(String(achFingerprint), /^[A-Za-z0-9]{16}$/);
    assert.deepEqual(achDetails, {
      account_holder_type: 'company',
      account_type: 'checking',
      bank_name: 'STRIPE TEST BANK',
      financial_connections_account: null,
      last4: '6789',
      networks: { preferred: 'ach', supported: ['ach'] },
      routing_number: '110000000',
      status_details: {},
    });
    const bacs = await h.stripe.paymentMethods.create({
      type: 'bacs_debit',
      bacs_debit: { sort_code: '10-88-00', account_number: '00012345' },
      billing_details,
    });
    assert.deepEqual([bacs.bacs_debit?.sort_code, bacs.bacs_debit?.last4], ['108800', '2345']);
    const becs = await h.stripe.paymentMethods.create({
      type: 'au_becs_debit',
      au_becs_debit: { bsb_number: '000000', account_number: '000123456' },
      billing_details,
    });
    assert.deepEqual([becs.au_becs_debit?.bsb_number, becs.au_becs_debit?.last4], ['000000', '3456']);
    assert.equal(becs.card, undefined);
  });

  it('rejects missing, invalid and mismatched type details with 400s naming the parameter', async () => {
    const cases: [Stripe.PaymentMethodCreateParams, string, string][] = [
      [{ type: 'sepa_debit' }, 'parameter_missing', 'sepa_debit[iban]'],
      [{ type: 'sepa_debit', sepa_debit: { iban: 'DK5000400440116244' } }, '', 'sepa_debit[iban]'],
      [{ type: 'ideal', ideal: { bank: 'no_such_bank' } }, '', 'ideal[bank]'],
      [{ type: 'fpx' }, 'parameter_missing', 'fpx[bank]'],
      [
        {
          type: 'acss_debit',
          acss_debit: { account_number: '12', institution_number: '000', transit_number: '11000' },
        },
        '',
        'acss_debit[account_number]',
      ],
      [
        {
          type: 'us_bank_account',
          us_bank_account: { routing_number: '110000001', account_number: '000123456789' },
        },
        '',
        'us_bank_account[routing_number]',
      ],
      [
        { type: 'alipay', alipay: { bank: 'x' } as Stripe.PaymentMethodCreateParams.Alipay },
        'parameter_unknown',
        'alipay[bank]',
      ],
      [
        { type: 'sepa_debit', sepa_debit: { iban: 'DK5000400440116243' }, card: { token: 'tok_visa' } },
        '',
        'card',
      ],
      [{ type: 'card', ideal: { bank: 'ing' } }, '', 'ideal'],
    ];
    for (const [params, code, param] of cases) {
      const error = (await h.stripe.paymentMethods
        .create(params)
        .catch((e: unknown) => e)) as Stripe.errors.StripeError;
      assert.equal(error.statusCode, 400, JSON.stringify(params));
      assert.equal(error.param, param, JSON.stringify(params));
      if (code) assert.equal(error.code, code, JSON.stringify(params));
    }
  });

  it('attaches, lists by type and detaches a SEPA debit like a card', async () => {
    const customer = await h.stripe.customers.create({ email: 'sepa@example.com' });
    const sepa = await h.stripe.paymentMethods.create({
      type: 'sepa_debit',
      sepa_debit: { iban: 'DE89370400440532013000' },
      billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
    });
    const attached = await h.stripe.paymentMethods.attach(sepa.id, { customer: customer.id });
    assert.equal(attached.customer, customer.id);
    await h.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const ids = async (type: Stripe.PaymentMethodListParams.Type) =>
      (await h.stripe.paymentMethods.list({ customer: customer.id, type })).data.map((pm) => pm.id);
    assert.deepEqual(await ids('sepa_debit'), [sepa.id]);
    assert.equal((await ids('card')).includes(sepa.id), false);
    assert.deepEqual(
      (await h.stripe.customers.listPaymentMethods(customer.id, { type: 'sepa_debit' })).data.map(
        (pm) => pm.id,
      ),
      [sepa.id],
    );
    const detached = await h.stripe.paymentMethods.detach(sepa.id);
    assert.equal(detached.customer, null);
    assert.equal(detached.sepa_debit?.bank_code, '37040044');
    assert.deepEqual(await ids('sepa_debit'), []);
  });

  it('charges a non-card method off session successfully (no bank behaviour is modelled)', async () => {
    const customer = await h.stripe.customers.create({ email: 'debit@example.com' });
    const sepa = await h.stripe.paymentMethods.create({
      type: 'sepa_debit',
      sepa_debit: { iban: 'FR1420041010050500013M02606' },
      billing_details: { name: 'Jenny Rosen', email: 'jenny@example.com' },
    });
    await h.stripe.paymentMethods.attach(sepa.id, { customer: customer.id });
    const intent = await h.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'eur',
      customer: customer.id,
      payment_method: sepa.id,
      confirm: true,
      off_session: true,
    });
    assert.equal(intent.status, 'succeeded');
  });
});

/** Stripe's key order: id and object first, then alphabetical. */
function byStripeOrder(a: string, b: string): number {
  const rank = (key: string) => (key === 'id' ? 0 : key === 'object' ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
