import { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../store/index.ts';
import { EVENT_ID_PATTERN, type ReplaySelector, replay } from '../sync/index.ts';
import { invalidArgument, notFound } from './failures.ts';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** The `<event-id>` of `replay` and `inspect event`. */
export const eventIdSchema = z.string().regex(EVENT_ID_PATTERN, 'event id must look like evt_…');

/** A UTC date or an ISO 8601 time with its offset; zod checks the calendar (2025-02-30 is refused). */
const SINCE_TIME = z.iso.date().or(z.iso.datetime({ offset: true }));

/** `--since`: an ISO 8601 time with its offset, a UTC date, or a duration before `now` (30m, 2h, 7d). */
export function parseSince(text: string, now: Date): Date | null {
  const ago = /^(\d+)([smhd])$/.exec(text);
  let at: Date | null = null;
  if (ago) at = new Date(now.getTime() - Number(ago[1]) * UNIT_SECONDS[ago[2] as 's'] * 1000);
  else if (SINCE_TIME.safeParse(text).success) at = new Date(text);
  // Outside the range of a Date (99999999999d ago) is no time at all.
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

type ReplayInput = {
  eventId?: string | undefined;
  failed?: boolean | undefined;
  unfetchable?: boolean | undefined;
  since?: string | undefined;
};

/** The command line to a selector (pure); throws one clear line when it names not exactly one. */
export function toReplaySelector(input: ReplayInput, now: Date): ReplaySelector {
  const schema = z
    .object({
      eventId: eventIdSchema.optional(),
      failed: z.literal(true).optional(),
      unfetchable: z.literal(true).optional(),
      since: z
        .string()
        .transform((text, context) => {
          const at = parseSince(text, now);
          if (!at)
            context.addIssue({
              code: 'custom',
              message:
                '--since must be an ISO 8601 time (2025-01-31T12:00:00Z), a date or a duration ago (30m, 2h, 7d)',
            });
          return at ?? now;
        })
        .optional(),
    })
    .refine(
      (value) =>
        [value.eventId, value.failed, value.unfetchable, value.since].filter((given) => given !== undefined)
          .length === 1,
      'give exactly one of <event-id>, --failed, --unfetchable or --since <time>',
    );
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalidArgument(parsed.error.issues[0]?.message ?? 'invalid arguments');
  const { eventId, since, unfetchable } = parsed.data;
  if (eventId) return { eventId };
  if (since) return { since };
  return unfetchable ? { unfetchable } : { failed: true };
}

/**
 * `subledger replay <event-id> | --failed | --unfetchable | --since <time>`: back to the queue, applied
 * at most once.
 */
export function replayCommand(): Command {
  return new Command('replay')
    .description('Queue inbox events to be processed again; an event never applies twice')
    .argument('[event-id]', 'one event, by its Stripe id (evt_…)')
    .option('--failed', 'every dead-lettered event, and every event waiting to retry after a failure')
    .option(
      '--unfetchable',
      'every event settled unfetchable (its object could not be read: no Stripe key, or access revoked)',
    )
    .option(
      '--since <time>',
      'every event received at or after <time>: 2025-01-31T12:00:00Z, 2025-01-31, 2h, 7d',
    )
    .action(async (eventId: string | undefined, options: Omit<ReplayInput, 'eventId'>) => {
      const selector = toReplaySelector({ eventId, ...options }, new Date());
      const database = await openDatabase(loadConfig());
      try {
        const result = await replay(database, selector);
        if (!result.ok) throw notFound(result.code, result.message);
        const what = result.eventIds?.length === 1 ? result.eventIds[0] : plural(result.queued, 'event');
        console.log(`Queued ${what} for replay.`);
      } finally {
        await database.close();
      }
    });
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
