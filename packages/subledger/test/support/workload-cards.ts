import type Stripe from 'stripe';

/** The test cards the workload pays with: one that pays, and one whose every charge declines. */
export type TestCard = 'visa' | 'chargeCustomerFail';

/** Stripe's numbers of those test cards. */
const NUMBERS: Record<TestCard, string> = {
  visa: '4242424242424242',
  chargeCustomerFail: '4000000000000341',
};

/**
 * A customer's customers pay as the workload's mode allows: in test mode with a test token
 * (`pm_card_visa`), which stands for a fresh card each time it is used; in live mode, where Stripe knows
 * no test tokens, with a payment method made from the card's number (the emulator takes test numbers in
 * either mode). Returns what a `payment_method` parameter names.
 */
export function cardPayments(stripe: Stripe, livemode: boolean): (card: TestCard) => Promise<string> {
  return async (card) => {
    if (!livemode) return `pm_card_${card}`;
    const method = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: NUMBERS[card], exp_month: 12, exp_year: new Date().getFullYear() + 5 },
    });
    return method.id;
  };
}

/** A customer whose default payment method is `paymentMethod` (see `cardPayments`). */
export async function customerWithCard(
  stripe: Stripe,
  paymentMethod: string,
  params: Stripe.CustomerCreateParams,
): Promise<string> {
  const created = await stripe.customers.create({
    email: 'billing@example.com',
    payment_method: paymentMethod,
    ...params,
  });
  const methods = await stripe.paymentMethods.list({ customer: created.id });
  await stripe.customers.update(created.id, {
    invoice_settings: { default_payment_method: methods.data[0]?.id ?? '' },
  });
  return created.id;
}
