import { z } from '@hono/zod-openapi';
import { ACCESS_STATES } from '../access/index.ts';
import { accountIdSchema } from '../sync/index.ts';

/**
 * The bodies the API answers with, as schemas: they document the API (OpenAPI), type the client built
 * from that document, and are what the routes' answers are checked against in tests.
 */

const unixSeconds = z.number().int().openapi({ example: 1767225600 });

export const accountIdParams = z.object({
  account_id: accountIdSchema.meta({ param: { name: 'account_id', in: 'path' }, example: 'acct_42' }),
});

export const accessStateSchema = z.enum(ACCESS_STATES).openapi('AccessState');

const countsShape = {
  limit: z.number().nullable().openapi({ description: "the plan's limit or grant per period" }),
  used: z.number().nullable(),
  remaining: z.number().nullable(),
  resets_at: unixSeconds.nullable().openapi({ description: 'when the usage window starts again' }),
};

export const checkResultSchema = z
  .object({
    allowed: z.boolean(),
    code: z.string().openapi({ example: 'allowed', description: 'why: allowed, limit_reached, …' }),
    state: accessStateSchema,
    plan: z.string().nullable(),
    ...countsShape,
  })
  .openapi('CheckResult');

export const featureAccessSchema = z
  .object({ allowed: z.boolean(), code: z.string(), ...countsShape })
  .openapi('FeatureAccess');

export const entitlementsSchema = z
  .object({
    account_id: z.string(),
    state: accessStateSchema,
    reason: z.string(),
    plan: z.string().nullable(),
    subscription_id: z.string().nullable(),
    ends_at: unixSeconds.nullable(),
    can_purchase: z.boolean(),
    can_use_credits: z.boolean(),
    features: z.record(z.string(), featureAccessSchema),
  })
  .openapi('Entitlements');

export const accountSchema = z
  .object({
    account_id: z.string(),
    livemode: z.boolean().openapi({
      description: 'true in live mode, false in test mode: the mode of the Stripe key, whose mirror is read',
    }),
    customer: z
      .object({ id: z.string(), email: z.string().nullable(), name: z.string().nullable() })
      .nullable(),
    subscriptions: z.array(
      z.object({
        id: z.string(),
        status: z.string().nullable(),
        items: z.array(z.object({ price: z.string().nullable(), quantity: z.number().nullable() })),
        current_period_end: unixSeconds.nullable(),
        cancel_at_period_end: z.boolean().nullable(),
        trial_end: unixSeconds.nullable(),
      }),
    ),
    invoices: z.array(
      z.object({
        id: z.string(),
        status: z.string().nullable(),
        billing_reason: z.string().nullable(),
        currency: z.string().nullable(),
        amount_due: z.number().nullable(),
        amount_paid: z.number().nullable(),
        subscription: z.string().nullable(),
        created: unixSeconds.nullable(),
      }),
    ),
    entitlements: z.array(z.string()).openapi({ description: 'lookup keys of active Stripe entitlements' }),
    synced_at: unixSeconds.nullable(),
  })
  .openapi('Account');

export const creditEntrySchema = z
  .object({
    id: z.number().int(),
    feature: z.string(),
    kind: z.string().openapi({ description: 'grant, spend, hold, release or expire' }),
    amount: z.number().int().openapi({ description: 'signed: out of the pool is negative' }),
    lot_id: z.string(),
    hold_id: z.string().nullable(),
    spender: z.string().nullable().openapi({ description: 'who spent, when a member spent the pool' }),
    at: unixSeconds,
  })
  .openapi('CreditEntry');

export const timelineSchema = z
  .object({
    account_id: z.string(),
    credits: z
      .array(creditEntrySchema)
      .openapi({ description: 'the latest 100 credit ledger entries, newest first' }),
    transitions: z.array(
      z.object({
        from: accessStateSchema,
        to: accessStateSchema,
        reason: z.string(),
        subscription_id: z.string().nullable(),
        cause: z.enum(['event', 'fetch', 'clock']),
        cause_event_id: z.string().nullable(),
        at: unixSeconds,
      }),
    ),
  })
  .openapi('Timeline');
