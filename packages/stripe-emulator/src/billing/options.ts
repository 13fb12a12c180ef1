import type { Emulator } from '../emulator.ts';
import { checkPolicy, DEFAULT_DUNNING, type DunningPolicy } from './dunning.ts';

/** How the billing engine behaves where Stripe lets an account choose (`EmulatorOptions.billing`). */
export type BillingOptions = {
  /** Retry schedule and final outcome after failed automatic payments (default: retries after 3, 5 and 7 days, then cancel the subscription and mark the invoice uncollectible). */
  dunning?: Partial<DunningPolicy>;
  /** How long a renewal invoice stays a draft before it is finalized and charged (Stripe: one hour). */
  renewalDraftSeconds?: number;
};

export type ResolvedBillingOptions = { dunning: DunningPolicy; renewalDraftSeconds: number };

const RENEWAL_DRAFT_SECONDS = 3600;

export function billingOptions(emulator: Emulator): ResolvedBillingOptions {
  const options = emulator.options.billing ?? {};
  return {
    dunning: checkPolicy({ ...DEFAULT_DUNNING, ...options.dunning }),
    renewalDraftSeconds: options.renewalDraftSeconds ?? RENEWAL_DRAFT_SECONDS,
  };
}
