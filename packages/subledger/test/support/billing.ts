import type Stripe from 'stripe';
import { type Catalog, defineCatalog, plansOf } from '../../src/catalog/index.ts';
import type { Stack } from './stack.ts';

const monthly = (lookupKey: string, unitAmount: number) => ({
  lookupKey,
  unitAmount,
  currency: 'usd',
  interval: 'month' as const,
});

/** What the billing tests sell: `team` at 15 a month, and `pro` (with single sign-on) at 45. */
export const teamCatalog = defineCatalog({
  features: {
    members: { type: 'boolean', name: 'Team members' },
    sso: { type: 'boolean', name: 'Single sign-on' },
  },
  plans: {
    team: {
      name: 'Team',
      trialDays: 0,
      prices: [monthly('team_monthly', 1500)],
      features: { members: true },
    },
    pro: {
      name: 'Pro',
      trialDays: 0,
      prices: [monthly('pro_monthly', 4500)],
      features: { members: true, sso: true },
    },
  },
});

/** The catalog's products and prices in Stripe (the emulator), as `catalog push` would make them. */
export async function createCatalogPrices<P extends string = 'team' | 'pro'>(
  stripe: Stripe,
  catalog: Catalog<string, P> = teamCatalog as unknown as Catalog<string, P>,
): Promise<Record<P, Stripe.Price>> {
  const prices = {} as Record<P, Stripe.Price>;
  for (const plan of plansOf(catalog)) {
    const product = await stripe.products.create({ name: plan.name, metadata: { subledger_plan: plan.id } });
    const [price] = plan.prices;
    prices[plan.id] = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: price?.unitAmount ?? 0,
      recurring: { interval: 'month' },
      lookup_key: price?.lookupKey ?? plan.id,
    });
  }
  return prices;
}

/** Completes a checkout session as the buyer would, on the emulator's hosted page. */
export async function completeCheckout(stack: Stack, sessionId: string): Promise<void> {
  const response = await fetch(`${stack.emulator.url}/_emulator/checkout/sessions/${sessionId}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (response.status !== 200)
    throw new Error(`checkout ${sessionId} did not complete: ${await response.text()}`);
}

/** An account on `plan`, bought through checkout and synced as the success page does; its subscription id. */
export async function subscribe(stack: Stack, accountId: string, plan: string, quantity = 1) {
  const checkout = await stack.client.POST('/v1/checkout', {
    body: {
      account_id: accountId,
      plan,
      quantity,
      success_url: 'https://app.example/ok',
      cancel_url: 'https://app.example/no',
    },
  });
  const sessionId = String(checkout.data?.session_id);
  await completeCheckout(stack, sessionId);
  const synced = await stack.client.POST('/v1/checkout/{session_id}/sync', {
    params: { path: { session_id: sessionId } },
  });
  return String(synced.data?.account.subscriptions[0]?.id);
}
