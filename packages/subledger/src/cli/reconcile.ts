import { Command } from 'commander';
import { z } from 'zod';
import { type Config, loadConfig } from '../config/index.ts';
import { explainRefusedAccess } from '../sync/connected-accounts.ts';
import {
  CATCH_UP_DAYS,
  type CatchUpResult,
  catchUp,
  type DriftItem,
  missedDrift,
  type ReconcileOptions,
  type ReconcileResult,
  reconcile,
  withinEventRetention,
} from '../sync/index.ts';
import type { KindName } from '../sync/kinds.ts';
import { ACCOUNT_OPTION, rpsSchema, toBackfillInput, withStripeJob } from './backfill.ts';
import { CliError, EXIT_CODES, invalidArgument, parseOption } from './failures.ts';
import { progressDisplay } from './progress.ts';
import { parseSince } from './replay.ts';

type ReconcileFlags = {
  account?: string;
  fix?: boolean;
  rps?: string;
  json?: boolean;
  kinds?: string;
  catchUp?: boolean;
  since?: string;
};

export type ReconcileInput = {
  account: string | undefined;
  fix: boolean;
  json: boolean;
  rps: number;
  kinds: KindName[] | undefined;
  /** Set when missed events are to be fetched first: from when. */
  catchUpSince: Date | null;
};

/** The command line to reconcile's input (pure); throws one clear line. */
export function toReconcileInput(flags: ReconcileFlags, config: Config, now: Date): ReconcileInput {
  if (flags.since !== undefined && !flags.catchUp) throw invalidArgument('--since needs --catch-up');
  const sinceSchema = z
    .string()
    .transform((text, context) => {
      const at = parseSince(text, now);
      if (!at || at > now)
        context.addIssue({
          code: 'custom',
          message:
            '--since must be a past ISO 8601 time (2025-01-31T12:00:00Z), a date or a duration ago (2h, 7d)',
        });
      return at ?? now;
    })
    .refine(
      (since) => withinEventRetention(since, now),
      `--since must lie within the last ${CATCH_UP_DAYS} days: Stripe keeps events for ${CATCH_UP_DAYS} days; ` +
        'for older drift run `subledger backfill` or `subledger reconcile --fix`',
    );
  const { kinds, account } = toBackfillInput(
    {
      ...(flags.kinds === undefined ? {} : { kinds: flags.kinds }),
      ...(flags.account === undefined ? {} : { account: flags.account }),
    },
    config,
  );
  return {
    account,
    fix: flags.fix === true,
    json: flags.json === true,
    rps: flags.rps === undefined ? config.stripeRequestsPerSecond : parseOption(rpsSchema, flags.rps),
    kinds,
    catchUpSince: !flags.catchUp
      ? null
      : flags.since === undefined
        ? new Date(now.getTime() - CATCH_UP_DAYS * 86_400_000)
        : parseOption(sinceSchema, flags.since),
  };
}

const SILENT_NOTE = 'changed by Stripe without an event';

/** The human report: a summary line, then the drift grouped by kind, one object per line. */
export function reconcileReport(result: ReconcileResult, fix: boolean): string[] {
  const checked = Object.values(result.checked).reduce((sum, count) => sum + count, 0);
  const silent = result.drift.length - missedDrift(result.drift).length;
  const lines = [
    `reconcile: ${checked} objects checked, ${result.drift.length} drifted` +
      (silent > 0 ? ` (${silent} only in fields ${SILENT_NOTE})` : '') +
      (fix ? `, ${result.fixed} fixed` : ''),
  ];
  for (const [kind, items] of groupByKind(result.drift)) {
    lines.push(`${kind} (${items.length})`);
    for (const item of items)
      lines.push(
        `  ${item.id} ${item.problem}${item.fields ? `: ${item.fields.join(', ')}` : ''}` +
          (item.silent ? ` (${SILENT_NOTE})` : ''),
      );
  }
  return lines;
}

/**
 * The drift left that tells of something missed: without `--fix`, all but the silent (a customer's
 * `next_invoice_sequence` after every invoice would otherwise fail a monitoring run each day though no
 * webhook was lost); with it, whatever was not fixed.
 */
export function unfixedDrift(result: ReconcileResult, fix: boolean): number {
  return fix ? result.drift.length - result.fixed : missedDrift(result.drift).length;
}

const catchUpLine = (result: CatchUpResult, since: Date) =>
  `catch-up: ${result.listed} event${result.listed === 1 ? '' : 's'} since ${since.toISOString()}, ${result.stored} new in the inbox ` +
  `(applied by the workers of \`subledger start\`), ${result.duplicates} already there`;

/** `subledger reconcile`: compare the mirror with Stripe, report drift by kind and id, fix it. */
export function reconcileCommand(): Command {
  return new Command('reconcile')
    .description(
      'Compare the mirror with Stripe and report drift by kind and id (needs STRIPE_SECRET_KEY). Exits 0 ' +
        `when the mirror equals Stripe (or all drift was fixed), ${EXIT_CODES.found} when drift remains. ` +
        `Fields ${SILENT_NOTE} (a customer's next_invoice_sequence) are reported; alone they leave the exit 0.`,
    )
    .option('--fix', "write Stripe's state over the drift found (deleted objects become tombstones)")
    .option('--rps <n>', 'Stripe requests per second (default: SUBLEDGER_STRIPE_RPS, else 20)')
    .option('--kinds <kinds>', 'comma-separated kinds to compare (default: all)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--catch-up', `first store the events of the last ${CATCH_UP_DAYS} days missing from the inbox`)
    .option(
      '--since <time>',
      `with --catch-up: fetch events from <time> on, within the last ${CATCH_UP_DAYS} days (ISO 8601, a date, or 2h, 7d)`,
    )
    .option(...ACCOUNT_OPTION)
    .action(async (flags: ReconcileFlags) => {
      const config = loadConfig();
      const input = toReconcileInput(flags, config, new Date());
      await withStripeJob('reconcile', config, input.account, async ({ database, stripe, place }) => {
        // Run even for an account recorded as having revoked access (the operator asked); a 403 says so.
        const refused = explainRefusedAccess(database.pool, place);
        const { onProgress, stop } = progressDisplay();
        const job = { database, stripe, place, requestsPerSecond: input.rps, onProgress };
        const { caughtUp, result } = await catchUpAndReconcile(job, input, config)
          .finally(stop)
          .catch(refused);
        const unfixed = unfixedDrift(result, input.fix);
        if (input.json) console.log(JSON.stringify({ ...result, unfixed, catchUp: caughtUp }, null, 2));
        else {
          if (caughtUp && input.catchUpSince) console.log(catchUpLine(caughtUp, input.catchUpSince));
          for (const line of reconcileReport(result, input.fix)) console.log(line);
        }
        if (unfixed > 0) throw driftRemains(unfixed, input.fix);
      });
    });
}

type ReconcileJob = Pick<
  ReconcileOptions,
  'database' | 'stripe' | 'place' | 'requestsPerSecond' | 'onProgress'
>;

/** The catch-up (missed events into the inbox) when asked for, then the comparison; one progress display. */
async function catchUpAndReconcile(job: ReconcileJob, input: ReconcileInput, config: Config) {
  const since = input.catchUpSince;
  const caughtUp = since ? await catchUp({ ...job, since }) : null;
  const result = await reconcile({
    ...job,
    context: { accountKeys: config.accountKeys },
    fix: input.fix,
    ...(input.kinds ? { kinds: input.kinds } : {}),
  });
  return { caughtUp, result };
}

/** Ends the command with exit code 2 through main's error handler, with one line on stderr. */
function driftRemains(unfixed: number, fixing: boolean): CliError {
  const objects = `${unfixed} drifted object${unfixed === 1 ? '' : 's'}`;
  return new CliError(
    'drift_remains',
    fixing
      ? `${objects} changed meanwhile and left as is; run reconcile again`
      : `${objects}; run with --fix to heal`,
    EXIT_CODES.found,
  );
}

function groupByKind(drift: DriftItem[]): Map<string, DriftItem[]> {
  const groups = new Map<string, DriftItem[]>();
  for (const item of drift) groups.set(item.kind, [...(groups.get(item.kind) ?? []), item]);
  return groups;
}
