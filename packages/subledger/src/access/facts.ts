import { z } from 'zod';
import { subscriptionPeriodOf } from '../sync/index.ts';
import { SUBSCRIPTION_STATUSES, type SubscriptionFacts } from './state.ts';

/**
 * What the state machine needs of a mirrored subscription, read from the Stripe object (pure). Fields
 * of every API version the mirror may hold are understood; a subscription that is not one is refused
 * rather than guessed at, since access would be decided on a guess.
 */
const subscriptionShape = z.looseObject({
  id: z.string(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  // The oldest API versions name the creation `start`.
  created: z.number().optional(),
  start: z.number().optional(),
  trial_end: z.number().nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: z.number().nullish(),
  pause_collection: z
    .object({
      behavior: z.enum(['keep_as_draft', 'mark_uncollectible', 'void']),
      resumes_at: z.number().nullish(),
    })
    .nullish(),
});

const invoiceShape = z.looseObject({
  created: z.number(),
  status_transitions: z.object({ finalized_at: z.number().nullish() }).nullish(),
});

export class SubscriptionShapeError extends Error {
  readonly code = 'subscription_unreadable';
}

/**
 * `openInvoices`: the subscription's invoices still open. The oldest one's finalization is when the
 * subscription fell past due, which is where its grace starts.
 */
export function subscriptionFactsOf(
  subscription: unknown,
  openInvoices: readonly unknown[] = [],
): SubscriptionFacts {
  const data = read(subscriptionShape, subscription, 'subscription');
  const period = subscriptionPeriodOf(data);
  return {
    id: data.id,
    status: data.status,
    created: data.created ?? data.start ?? period.start ?? 0,
    currentPeriodStart: period.start,
    currentPeriodEnd: period.end,
    trialEnd: data.trial_end ?? null,
    cancelAtPeriodEnd: data.cancel_at_period_end ?? false,
    cancelAt: data.cancel_at ?? null,
    pauseCollection: data.pause_collection
      ? { behavior: data.pause_collection.behavior, resumesAt: data.pause_collection.resumes_at ?? null }
      : null,
    pastDueSince: data.status === 'past_due' ? oldestFinalized(openInvoices) : null,
  };
}

function oldestFinalized(invoices: readonly unknown[]): number | null {
  let oldest: number | null = null;
  for (const invoice of invoices) {
    const data = read(invoiceShape, invoice, 'invoice');
    const finalized = data.status_transitions?.finalized_at ?? data.created;
    if (oldest === null || finalized < oldest) oldest = finalized;
  }
  return oldest;
}

function read<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new SubscriptionShapeError(`a mirrored ${what} is not readable: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
