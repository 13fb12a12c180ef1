import { defineCatalog } from './define.ts';

/**
 * The catalog `subledger start` pushes to the emulator when no Stripe key is set, and the one the CLI
 * uses without `--catalog`: one feature of each type, three plans.
 */
export const demoCatalog = defineCatalog({
  features: {
    sso: { type: 'boolean', name: 'Single sign-on' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
    ai_credits: { type: 'credits', name: 'AI credits', period: 'month' },
  },
  plans: {
    free: {
      name: 'Free',
      description: 'Try it out',
      features: { api_calls: { limit: 1_000 }, ai_credits: { grant: 20 } },
    },
    starter: {
      name: 'Starter',
      prices: [
        { lookupKey: 'starter_monthly', unitAmount: 900, currency: 'usd', interval: 'month' },
        { lookupKey: 'starter_yearly', unitAmount: 9_000, currency: 'usd', interval: 'year' },
      ],
      trialDays: 14,
      features: { api_calls: { limit: 10_000 }, ai_credits: { grant: 200 } },
    },
    pro: {
      name: 'Pro',
      prices: [
        { lookupKey: 'pro_monthly', unitAmount: 2_900, currency: 'usd', interval: 'month' },
        { lookupKey: 'pro_yearly', unitAmount: 29_000, currency: 'usd', interval: 'year' },
      ],
      trialDays: 14,
      features: {
        sso: true,
        api_calls: { limit: 'unlimited' },
        ai_credits: { grant: 1_000, rollover: { cap: 2_000 } },
      },
    },
  },
});
