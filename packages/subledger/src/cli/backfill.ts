import { Command } from 'commander';
import type Stripe from 'stripe';
import { z } from 'zod';
import { type Config, loadConfig } from '../config/index.ts';
import { type Database, migrate, openDatabase } from '../store/index.ts';
import { createStripeClient } from '../stripe/index.ts';
import {
  accessRestoredIfRevoked,
  type BackfillResult,
  backfill,
  CONNECTED_ACCOUNT_ID_PATTERN,
  defaultPlace,
  type Place,
} from '../sync/index.ts';
import { eachKindOnce, KIND_NAMES, type KindName } from '../sync/kinds.ts';
import { parseOption, stripeNotConfigured } from './failures.ts';
import { progressDisplay } from './progress.ts';

/** `--rps`: requests per second to Stripe, a positive whole number. */
export const rpsSchema = z
  .string()
  .regex(/^\d+$/, '--rps must be a positive whole number')
  .transform(Number)
  .refine((rps) => rps > 0, '--rps must be a positive whole number');

const kindsSchema = z
  .string()
  .transform((text) => text.split(',').map((kind) => kind.trim()))
  .pipe(
    z.array(
      z.enum(KIND_NAMES, {
        error: (issue) => `--kinds: unknown kind '${issue.input}'; use ${KIND_NAMES.join(', ')}`,
      }),
    ),
  )
  .transform(eachKindOnce);

/** `--account`: a connected account, whose objects are read with its `Stripe-Account` header. */
const accountSchema = z
  .string()
  .regex(CONNECTED_ACCOUNT_ID_PATTERN, '--account must be a connected account id (acct_…)');

export type BackfillInput = { kinds: KindName[] | undefined; rps: number; account: string | undefined };

/** The command line to backfill's input (pure); throws one clear line. */
export function toBackfillInput(
  options: { kinds?: string; rps?: string; account?: string },
  config: Config,
): BackfillInput {
  return {
    kinds: options.kinds === undefined ? undefined : parseOption(kindsSchema, options.kinds),
    rps: options.rps === undefined ? config.stripeRequestsPerSecond : parseOption(rpsSchema, options.rps),
    account: options.account === undefined ? undefined : parseOption(accountSchema, options.account),
  };
}

/** The `--account` option of the commands that read Stripe into the mirror. */
export const ACCOUNT_OPTION = [
  '--account <acct_id>',
  "a connected account's objects instead of the platform's (Stripe-Account header)",
] as const;

export type StripeJob = { config: Config; database: Database; stripe: Stripe; place: Place };

/**
 * Opens what a command reading Stripe into the mirror needs: the configured database (migrated) and a
 * Stripe client on the configured key, on the platform (or the connected `account`) in the key's mode.
 * An account recorded as having revoked access is first asked whether it lets the platform in again.
 */
export async function withStripeJob<T>(
  job: string,
  config: Config,
  account: string | undefined,
  run: (context: StripeJob) => Promise<T>,
): Promise<T> {
  const stripe = configuredStripe(config, job);
  const database = await openDatabase(config);
  const platform = defaultPlace(config.stripeSecretKey);
  try {
    await migrate(database);
    const place = account ? { ...platform, stripeAccount: account } : platform;
    if (await accessRestoredIfRevoked(database.pool, stripe, place))
      console.error(
        `${job}: ${place.stripeAccount} lets the platform in again (Stripe answered a read); its revocation is cleared`,
      );
    return await run({ config, database, stripe, place });
  } finally {
    await database.close();
  }
}

/** The Stripe client of the configured key; a command that needs one fails with one clear line without it. */
export function configuredStripe(config: Config, job: string): Stripe {
  if (!config.stripeSecretKey) throw stripeNotConfigured(`STRIPE_SECRET_KEY is required for ${job}`);
  return createStripeClient({ secretKey: config.stripeSecretKey, apiBase: config.stripeApiBase });
}

/** The line a backfill ends with; a resumed run says when it began, and what it leaves to others. */
export function backfillSummary(result: BackfillResult, seconds: number): string {
  const kinds = Object.entries(result.byKind).map(([kind, count]) => `${kind} ${count}`);
  const resumed = result.resumedFrom
    ? ` (resumed the run begun ${result.resumedFrom.toISOString()}: objects created since, and changes to ` +
      'those it had read, are left to the webhooks and reconcile; --restart reads everything again)'
    : '';
  return `backfill: ${result.objects} objects in ${seconds.toFixed(1)} s${resumed}: ${kinds.join(', ')}`;
}

/** `subledger backfill`: every mirrored object read from Stripe, resumable after a crash. */
export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      'Read every mirrored object from Stripe into the mirror (needs STRIPE_SECRET_KEY). Resumes an ' +
        'interrupted run where its last page was written; a finished one starts over.',
    )
    .option('--kinds <kinds>', `comma-separated kinds to read (default: all): ${KIND_NAMES.join(', ')}`)
    .option('--rps <n>', 'Stripe requests per second (default: SUBLEDGER_STRIPE_RPS, else 20)')
    .option('--restart', 'start over instead of resuming an interrupted run')
    .option(...ACCOUNT_OPTION)
    .action(async (options: { kinds?: string; rps?: string; account?: string; restart?: boolean }) => {
      const config = loadConfig();
      const input = toBackfillInput(options, config);
      await withStripeJob('backfill', config, input.account, async ({ database, stripe, place }) => {
        const progress = progressDisplay();
        const started = Date.now();
        const result = await backfill({
          database,
          stripe,
          place,
          context: { accountKeys: config.accountKeys },
          requestsPerSecond: input.rps,
          restart: options.restart === true,
          ...(input.kinds ? { kinds: input.kinds } : {}),
          onProgress: progress.onProgress,
        }).finally(progress.stop);
        console.log(backfillSummary(result, (Date.now() - started) / 1000));
      });
    });
}
