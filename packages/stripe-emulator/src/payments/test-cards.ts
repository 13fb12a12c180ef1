import { createHash } from 'node:crypto';

/**
 * Stripe's test-mode cards, as tokens (`pm_card_visa`, `tok_visa`) and as numbers, and what the card
 * network does with each: approve, decline (on attach and on every charge), decline only charges
 * (`pm_card_chargeCustomerFail`), or ask for authentication. Pure data and rules; no I/O.
 */

export type Decline = {
  code: string;
  declineCode: string;
  message: string;
  adviceCode: string | null;
  networkDeclineCode: string | null;
};

/** What happens when a charge reaches the card. */
export type ChargeBehavior = 'approve' | 'decline' | 'authenticate';

export type TestCard = {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit' | 'prepaid';
  country: string;
  fingerprint: string;
  /** Declined cards cannot even be attached: Stripe verifies them with a zero-amount authorization. */
  declinesOnAttach: boolean;
  charge: ChargeBehavior;
  decline: Decline | null;
};

const genericDecline: Decline = {
  code: 'card_declined',
  declineCode: 'generic_decline',
  message: 'Your card was declined.',
  adviceCode: 'try_again_later',
  networkDeclineCode: '01',
};

export const authenticationRequired: Decline = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
  adviceCode: 'try_again_later',
  networkDeclineCode: null,
};

const declines = {
  insufficientFunds: {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
    adviceCode: 'try_again_later',
    networkDeclineCode: '51',
  },
  lostCard: {
    code: 'card_declined',
    declineCode: 'lost_card',
    message: 'Your card was declined.',
    adviceCode: 'do_not_try_again',
    networkDeclineCode: '41',
  },
  stolenCard: {
    code: 'card_declined',
    declineCode: 'stolen_card',
    message: 'Your card was declined.',
    adviceCode: 'do_not_try_again',
    networkDeclineCode: '43',
  },
  expiredCard: {
    code: 'expired_card',
    declineCode: 'expired_card',
    message: 'Your card has expired.',
    adviceCode: 'confirm_card_data',
    networkDeclineCode: '54',
  },
  incorrectCvc: {
    code: 'incorrect_cvc',
    declineCode: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
    adviceCode: 'confirm_card_data',
    networkDeclineCode: 'N7',
  },
  processingError: {
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
    adviceCode: 'try_again_later',
    networkDeclineCode: null,
  },
} satisfies Record<string, Decline>;

type CardRow = [
  name: string,
  number: string,
  brand: string,
  funding: TestCard['funding'],
  country: string,
  charge: ChargeBehavior,
  decline: Decline | null,
  declinesOnAttach: boolean,
];

/** `name` is the suffix of `pm_card_<name>` and `tok_<name>`. */
// biome-ignore format: one card per line reads as a table
const CARDS: CardRow[] = [
  ['visa', '4242424242424242', 'visa', 'credit', 'US', 'approve', null, false],
  ['visa_debit', '4000056655665556', 'visa', 'debit', 'US', 'approve', null, false],
  ['mastercard', '5555555555554444', 'mastercard', 'credit', 'US', 'approve', null, false],
  ['mastercard_debit', '5200828282828210', 'mastercard', 'debit', 'US', 'approve', null, false],
  ['mastercard_prepaid', '5105105105105100', 'mastercard', 'prepaid', 'US', 'approve', null, false],
  ['amex', '378282246310005', 'amex', 'credit', 'US', 'approve', null, false],
  ['discover', '6011000990139424', 'discover', 'credit', 'US', 'approve', null, false],
  ['diners', '3056930009020004', 'diners', 'credit', 'US', 'approve', null, false],
  ['jcb', '3566002020360505', 'jcb', 'credit', 'JP', 'approve', null, false],
  ['unionpay', '6200000000000005', 'unionpay', 'credit', 'CN', 'approve', null, false],
  ['chargeDeclined', '4000000000000002', 'visa', 'credit', 'US', 'decline', genericDecline, true],
  ['chargeDeclinedInsufficientFunds', '4000000000009995', 'visa', 'credit', 'US', 'decline', declines.insufficientFunds, true],
  ['chargeDeclinedLostCard', '4000000000009987', 'visa', 'credit', 'US', 'decline', declines.lostCard, true],
  ['chargeDeclinedStolenCard', '4000000000009979', 'visa', 'credit', 'US', 'decline', declines.stolenCard, true],
  ['chargeDeclinedExpiredCard', '4000000000000069', 'visa', 'credit', 'US', 'decline', declines.expiredCard, true],
  ['chargeDeclinedIncorrectCvc', '4000000000000127', 'visa', 'credit', 'US', 'decline', declines.incorrectCvc, true],
  ['chargeDeclinedProcessingError', '4000000000000119', 'visa', 'credit', 'US', 'decline', declines.processingError, true],
  ['chargeCustomerFail', '4000000000000341', 'visa', 'credit', 'US', 'decline', genericDecline, false],
  ['authenticationRequired', '4000002760003184', 'visa', 'credit', 'DE', 'authenticate', null, false],
  ['threeDSecure2Required', '4000000000003220', 'visa', 'credit', 'US', 'authenticate', null, false],
];

/** Fingerprints seen in recorded responses; other cards get a stable one derived from the number. */
const RECORDED_FINGERPRINTS: Record<string, string> = {
  '4242424242424242': 'w4XDzQOFakih5EZM',
  '6011000990139424': 'bTh6uC9gFrThKbdj',
  '4000002760003184': 'qu2JxQg97yWGBVrd',
};

const fingerprintOf = (number: string) =>
  RECORDED_FINGERPRINTS[number] ?? createHash('sha256').update(number).digest('base64url').slice(0, 16);

const toCard = (row: CardRow): TestCard => {
  const [, number, brand, funding, country, charge, decline, declinesOnAttach] = row;
  const fingerprint = fingerprintOf(number);
  return { brand, last4: number.slice(-4), funding, country, fingerprint, charge, decline, declinesOnAttach };
};

const byName = new Map(CARDS.map((row) => [row[0], toCard(row)]));
const byNumber = new Map(CARDS.map((row) => [row[1], toCard(row)]));
const byFingerprint = new Map(CARDS.map((row) => [fingerprintOf(row[1]), toCard(row)]));

/**
 * The test card behind a stored payment method. A card's fingerprint identifies its number, so the
 * fingerprint is how a `pm_…` made from `pm_card_chargeCustomerFail` keeps failing every charge.
 */
export function testCardForFingerprint(fingerprint: string | null | undefined): TestCard | null {
  return fingerprint ? (byFingerprint.get(fingerprint) ?? null) : null;
}

/** `pm_card_visa` → the visa test card; any other string → null. */
export function testCardForPaymentMethodToken(token: string): TestCard | null {
  return token.startsWith('pm_card_') ? (byName.get(token.slice('pm_card_'.length)) ?? null) : null;
}

/** `tok_visa` (a card token, as Stripe.js would hand over) → the visa test card. */
export function testCardForToken(token: string): TestCard | null {
  return token.startsWith('tok_') ? (byName.get(token.slice('tok_'.length)) ?? null) : null;
}

export function testCardForNumber(number: string): TestCard | null {
  return byNumber.get(number.replace(/[\s-]/g, '')) ?? null;
}

/** The outcome of charging a card, on or off session. */
export type ChargeDecision =
  | { kind: 'approved' }
  | { kind: 'declined'; decline: Decline }
  | { kind: 'requires_action' };

export function decideCharge(
  behavior: ChargeBehavior,
  decline: Decline | null,
  offSession: boolean,
): ChargeDecision {
  if (behavior === 'approve') return { kind: 'approved' };
  if (behavior === 'decline') return { kind: 'declined', decline: decline ?? genericDecline };
  return offSession ? { kind: 'declined', decline: authenticationRequired } : { kind: 'requires_action' };
}

/** Test cards expire a year after they are tokenized, in the same month (as the recorded ones do). */
export function testCardExpiry(nowSeconds: number): { exp_month: number; exp_year: number } {
  const date = new Date(nowSeconds * 1000);
  return { exp_month: date.getUTCMonth() + 1, exp_year: date.getUTCFullYear() + 1 };
}
