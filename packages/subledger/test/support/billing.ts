import type Stripe from 'stripe';
import { defineCatalog } from '../../src/catalog/index.ts';

/** One plan, `team`, at one monthly price: what the billing tests sell. */
export const teamCatalog = defineCatalog({
  features: { members: { type: 'boolean', name: 'Team members' } },
  plans: {
    team: {
      name: 'Team',
      trialDays: 0,
      prices: [{ lookupKey: 'team_monthly', unitAmount: 1500, currency: 'usd', interval: 'month' }],
      features: { members: true },
    },
  },
});

/** The team plan's product and price in Stripe (the emulator), as `catalog push` would make them. */
export async function createTeamPrice(stripe: Stripe): Promise<Stripe.Price> {
  const product = await stripe.products.create({ name: 'Team', metadata: { subledger_plan: 'team' } });
  return stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
    lookup_key: 'team_monthly',
  });
}
