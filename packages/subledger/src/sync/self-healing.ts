import type Stripe from 'stripe';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import { type Database, PLATFORM } from '../store/index.ts';
import { backfill } from './backfill.ts';
import { CATCH_UP_RETENTION_MESSAGE, catchUp, withinEventRetention } from './catch-up.ts';
import { CONNECTED_ACCOUNT_ID_PATTERN, EVENT_ID_PATTERN } from './envelope.ts';
import type { Inbox } from './inbox.ts';
import { eachKindOnce, KIND_NAMES } from './kinds.ts';
import type { OnProgress } from './progress.ts';
import { reconcile } from './reconcile.ts';
import { type ReplaySelector, replay } from './replay.ts';

export type SelfHealingErrorCode = 'stripe_not_configured' | 'invalid_options';

/** A self-healing call refused before it read anything: no Stripe key, or options it cannot take. */
export class SelfHealingError extends Error {
  readonly code: SelfHealingErrorCode;
  constructor(code: SelfHealingErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const readingSchema = z.strictObject({
  /** A connected account's objects (its `Stripe-Account` header) instead of the platform's. */
  account: z
    .string()
    .regex(CONNECTED_ACCOUNT_ID_PATTERN, 'account must be a connected account id (acct_…)')
    .optional(),
  requestsPerSecond: z.number().int().positive().optional(),
  onProgress: z.custom<OnProgress>((value) => typeof value === 'function').optional(),
});
const kindsSchema = z.array(z.enum(KIND_NAMES)).nonempty().transform(eachKindOnce).optional();

const backfillSchema = readingSchema.extend({ kinds: kindsSchema, restart: z.boolean().optional() });
const reconcileSchema = readingSchema.extend({ kinds: kindsSchema, fix: z.boolean().optional() });
const catchUpSchema = readingSchema.extend({
  since: z
    .date()
    .refine((since) => since.getTime() <= Date.now(), 'since must not lie ahead')
    .refine((since) => withinEventRetention(since, new Date()), CATCH_UP_RETENTION_MESSAGE)
    .optional(),
});
const replaySchema = z.union([
  z.strictObject({ eventId: z.string().regex(EVENT_ID_PATTERN, 'eventId must be an event id (evt_…)') }),
  z.strictObject({ failed: z.literal(true) }),
  z.strictObject({ unfetchable: z.literal(true) }),
  z.strictObject({ since: z.date() }),
]);

export type BackfillCall = z.input<typeof backfillSchema>;
export type ReconcileCall = z.input<typeof reconcileSchema>;
export type CatchUpCall = z.input<typeof catchUpSchema>;

export type SelfHealingParts = {
  database: Database;
  config: Config;
  stripe: Stripe | null;
  /** The mode of the client's key. */
  livemode: boolean;
  inbox: Inbox;
};

/**
 * The self-healing jobs of `subledger backfill`, `reconcile`, `reconcile --catch-up` and `replay` as
 * library calls, on the engine's database, Stripe client and key mode. Each validates its options and
 * rejects with a `SelfHealingError` before reading anything.
 */
export function selfHealing(parts: SelfHealingParts) {
  const { database, config } = parts;
  const context = { accountKeys: config.accountKeys };
  /** What every read of Stripe takes, from the call's validated options. */
  const reading = (options: z.output<typeof readingSchema>) => {
    if (!parts.stripe)
      throw new SelfHealingError('stripe_not_configured', 'no Stripe key is configured (STRIPE_SECRET_KEY)');
    return {
      database,
      stripe: parts.stripe,
      context,
      place: { stripeAccount: options.account ?? PLATFORM, livemode: parts.livemode },
      requestsPerSecond: options.requestsPerSecond ?? config.stripeRequestsPerSecond,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
  };
  return {
    /**
     * Reads every mirrored object (or `kinds`) from Stripe into the mirror; resumes an interrupted run,
     * or starts it over with `restart`.
     */
    backfill: async (options: BackfillCall = {}) => {
      const { kinds, restart, ...rest } = valid(backfillSchema, options);
      return backfill({ ...reading(rest), restart: restart ?? false, ...(kinds ? { kinds } : {}) });
    },
    /** Compares the mirror with Stripe and reports drift by kind and id; with `fix`, writes Stripe's state. */
    reconcile: async (options: ReconcileCall = {}) => {
      const { kinds, fix, ...rest } = valid(reconcileSchema, options);
      return reconcile({ ...reading(rest), fix: fix ?? false, ...(kinds ? { kinds } : {}) });
    },
    /** Stores the events missed since `since` (default: 30 days ago) from `/v1/events` in the inbox. */
    catchUp: async (options: CatchUpCall = {}) => {
      const { since, ...rest } = valid(catchUpSchema, options);
      return catchUp({ ...reading(rest), inbox: parts.inbox, ...(since ? { since } : {}) });
    },
    /** Puts events back in the queue: one by id, the failed ones, or those received since a time. */
    replay: async (selector: ReplaySelector) => replay(database, valid(replaySchema, selector)),
  };
}

function valid<T>(schema: z.ZodType<T>, options: unknown): T {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new SelfHealingError('invalid_options', `${where}${issue?.message ?? 'invalid options'}`);
}
