import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parameterInvalid, resourceMissing } from '../core/errors.ts';
import { oneOf, str, validate } from '../core/params.ts';
import {
  ACH_TEST_ROUTING_NUMBERS,
  ACSS_TEST_INSTITUTIONS,
  EPS_BANKS,
  FPX_BANKS,
  IDEAL_BANKS,
  IDEAL_BICS,
  P24_BANKS,
  TEST_BANK_NAME,
} from './bank-lists.ts';
import { parseIban } from './iban.ts';
import type { WirePaymentMethod } from './payment-methods.ts';

/**
 * The payment method types other than `card` that `POST /v1/payment_methods` creates: for each, the
 * `<type>[…]` hash it accepts and how Stripe derives the sub-object it returns under the type's key
 * (an IBAN becomes `country`, `bank_code`, `branch_code`, `last4` and a `fingerprint`). The shapes
 * follow the recorded responses (pay-rails `test_stripe_saves_*`, API 2025-10-29) and the SDK's
 * `Stripe.PaymentMethod.*` types. Pure: validation errors are thrown, nothing is stored.
 *
 * These methods carry no test-card behaviour, so confirming a payment with one (on or off session)
 * simply succeeds: the emulator does not model redirects, mandates or delayed bank debits.
 */

type Details<K extends keyof WirePaymentMethod> = NonNullable<WirePaymentMethod[K]>;

type TypeSpec<D> = {
  /** Validates the raw `<type>` hash (absent counts as `{}`) and derives the sub-object. */
  details: (type: string, raw: unknown) => D;
};

function typeSpec<S extends z.ZodType, D>(params: S, derive: (input: z.output<S>) => D): TypeSpec<D> {
  return {
    details: (type, raw) => {
      const parsed = validate(z.strictObject({ [type]: params }), { [type]: raw ?? {} });
      return derive(parsed[type] as z.output<S>);
    },
  };
}

/** Types whose sub-object is empty (`alipay: {}`): Stripe keeps nothing about the account. */
const withoutDetails = () => typeSpec(z.strictObject({}), () => ({}));

/**
 * Stripe's fingerprint identifies the account or IBAN within a platform: 16 alphanumerics, the same
 * for the same details. The emulator derives it from the details, so it is stable across runs.
 */
export function bankFingerprint(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('base64');
  return digest.replace(/[^A-Za-z0-9]/g, '').slice(0, 16);
}

const digits = (param: string, value: string, lengths: { min: number; max: number }, what: string) => {
  if (!/^\d+$/.test(value) || value.length < lengths.min || value.length > lengths.max)
    throw parameterInvalid(param, `The ${what} you provided (${value}) is invalid.`);
  return value;
};

/** ABA routing numbers carry a weighted check digit (3-7-1), as Stripe verifies before saving. */
export function routingNumberHolds(routing: string): boolean {
  if (!/^\d{9}$/.test(routing)) return false;
  const d = [...routing].map(Number);
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  return d.reduce((sum, digit, i) => sum + digit * (weights[i] ?? 0), 0) % 10 === 0;
}

const IBAN_PROBLEMS = {
  unsupported_country: 'SEPA Direct Debit does not support IBANs from this country.',
  wrong_length: 'The IBAN you provided has the wrong length for its country.',
  bad_check_digits: 'The IBAN you provided is invalid: its check digits do not match.',
};

const sepaDebit = typeSpec(z.strictObject({ iban: str() }), (p): Details<'sepa_debit'> => {
  const iban = parseIban(p.iban);
  if (typeof iban === 'string') throw parameterInvalid('sepa_debit[iban]', IBAN_PROBLEMS[iban]);
  return {
    bank_code: iban.bankCode,
    branch_code: iban.branchCode,
    country: iban.country,
    fingerprint: bankFingerprint('sepa_debit', iban.iban),
    generated_from: { charge: null, setup_attempt: null },
    last4: iban.last4,
  };
});

const acssDebit = typeSpec(
  z.strictObject({ account_number: str(), institution_number: str(), transit_number: str() }),
  (p): Details<'acss_debit'> => {
    const institution = digits(
      'acss_debit[institution_number]',
      p.institution_number,
      { min: 3, max: 3 },
      'institution number',
    );
    const transit = digits(
      'acss_debit[transit_number]',
      p.transit_number,
      { min: 5, max: 5 },
      'transit number',
    );
    const account = digits(
      'acss_debit[account_number]',
      p.account_number,
      { min: 7, max: 12 },
      'account number',
    );
    return {
      bank_name: ACSS_TEST_INSTITUTIONS.has(institution) ? TEST_BANK_NAME : null,
      fingerprint: bankFingerprint('acss_debit', institution, transit, account),
      institution_number: institution,
      last4: account.slice(-4),
      transit_number: transit,
    };
  },
);

const usBankAccount = typeSpec(
  z.strictObject({
    account_holder_type: oneOf(['individual', 'company']).optional(),
    account_number: str().optional(),
    account_type: oneOf(['checking', 'savings']).optional(),
    financial_connections_account: str().optional(),
    routing_number: str().optional(),
  }),
  (p): Details<'us_bank_account'> => {
    // The emulator has no Financial Connections, so no such account exists (Stripe's answer for an unknown one).
    if (p.financial_connections_account)
      throw resourceMissing(
        'financial_connections.account',
        p.financial_connections_account,
        'us_bank_account[financial_connections_account]',
      );
    if (!p.routing_number || !routingNumberHolds(p.routing_number))
      throw parameterInvalid('us_bank_account[routing_number]', 'Invalid routing number.');
    const account = digits(
      'us_bank_account[account_number]',
      p.account_number ?? '',
      { min: 4, max: 17 },
      'account number',
    );
    return {
      account_holder_type: p.account_holder_type ?? 'individual',
      account_type: p.account_type ?? 'checking',
      bank_name: ACH_TEST_ROUTING_NUMBERS.has(p.routing_number) ? TEST_BANK_NAME : null,
      financial_connections_account: null,
      fingerprint: bankFingerprint('us_bank_account', p.routing_number, account),
      last4: account.slice(-4),
      networks: { preferred: 'ach', supported: ['ach'] },
      routing_number: p.routing_number,
      status_details: {},
    };
  },
);

const bacsDebit = typeSpec(
  z.strictObject({ account_number: str(), sort_code: str() }),
  (p): Details<'bacs_debit'> => {
    const sortCode = digits(
      'bacs_debit[sort_code]',
      p.sort_code.replace(/-/g, ''),
      { min: 6, max: 6 },
      'sort code',
    );
    const account = digits(
      'bacs_debit[account_number]',
      p.account_number,
      { min: 8, max: 8 },
      'account number',
    );
    return {
      fingerprint: bankFingerprint('bacs_debit', sortCode, account),
      last4: account.slice(-4),
      sort_code: sortCode,
    };
  },
);

const auBecsDebit = typeSpec(
  z.strictObject({ account_number: str(), bsb_number: str() }),
  (p): Details<'au_becs_debit'> => {
    const bsb = digits(
      'au_becs_debit[bsb_number]',
      p.bsb_number.replace(/-/g, ''),
      { min: 6, max: 6 },
      'BSB number',
    );
    const account = digits(
      'au_becs_debit[account_number]',
      p.account_number,
      { min: 5, max: 9 },
      'account number',
    );
    return {
      bsb_number: bsb,
      fingerprint: bankFingerprint('au_becs_debit', bsb, account),
      last4: account.slice(-4),
    };
  },
);

/** A CPF has 11 digits, a CNPJ 14; punctuation (`000.000.000-00`) is kept as sent, as in the recording. */
const boleto = typeSpec(
  z.strictObject({ tax_id: str() }),
  // The recorded response carries a fingerprint the SDK's Boleto type does not declare yet.
  (p): Details<'boleto'> & { fingerprint: string } => {
    const taxDigits = p.tax_id.replace(/[.\-/\s]/g, '');
    if (!/^(\d{11}|\d{14})$/.test(taxDigits))
      throw parameterInvalid('boleto[tax_id]', 'The tax ID must be a CPF (11 digits) or a CNPJ (14 digits).');
    return { fingerprint: bankFingerprint('boleto', taxDigits), tax_id: p.tax_id };
  },
);

/** Every non-card type the emulator creates, one entry each. */
export const PAYMENT_METHOD_TYPES = {
  acss_debit: acssDebit,
  afterpay_clearpay: withoutDetails(),
  alipay: withoutDetails(),
  au_becs_debit: auBecsDebit,
  bacs_debit: bacsDebit,
  bancontact: withoutDetails(),
  boleto,
  eps: typeSpec(
    z.strictObject({ bank: oneOf(EPS_BANKS).optional() }),
    (p): Details<'eps'> => ({ bank: p.bank ?? null }),
  ),
  fpx: typeSpec(
    z.strictObject({
      account_holder_type: oneOf(['individual', 'company']).optional(),
      bank: oneOf(FPX_BANKS),
    }),
    (p): Details<'fpx'> => ({ account_holder_type: p.account_holder_type ?? 'individual', bank: p.bank }),
  ),
  giropay: withoutDetails(),
  grabpay: withoutDetails(),
  ideal: typeSpec(
    z.strictObject({ bank: oneOf(IDEAL_BANKS).optional() }),
    (p): Details<'ideal'> => ({ bank: p.bank ?? null, bic: p.bank ? IDEAL_BICS[p.bank] : null }),
  ),
  oxxo: withoutDetails(),
  p24: typeSpec(
    z.strictObject({ bank: oneOf(P24_BANKS).optional() }),
    (p): Details<'p24'> => ({ bank: p.bank ?? null }),
  ),
  sepa_debit: sepaDebit,
  sofort: typeSpec(
    z.strictObject({ country: oneOf(['AT', 'BE', 'DE', 'ES', 'IT', 'NL']) }),
    (p): Details<'sofort'> => ({ country: p.country }),
  ),
  us_bank_account: usBankAccount,
  wechat_pay: withoutDetails(),
} satisfies { [K in keyof WirePaymentMethod]?: TypeSpec<Details<K>> };

export type NonCardType = keyof typeof PAYMENT_METHOD_TYPES;

export const NON_CARD_TYPES = Object.keys(PAYMENT_METHOD_TYPES) as NonCardType[];

export const isNonCardType = (type: string): type is NonCardType => Object.hasOwn(PAYMENT_METHOD_TYPES, type);
