import type Stripe from 'stripe';
import { type Database, PLATFORM } from '../store/index.ts';
import { catchUpProgress } from './catch-up-progress.ts';
import { toInboxEvent } from './envelope.ts';
import { ACCESS_EVENTS, EVENT_HANDLERS } from './handlers.ts';
import { Inbox } from './inbox.ts';
import { createLimiter, type Limiter } from './limiter.ts';
import type { OnProgress } from './progress.ts';
import { type Place, requestOptions, wireShape } from './stripe-reads.ts';

export type CatchUpOptions = {
  database: Database;
  stripe: Stripe;
  /** The inbox to store into (default: one over `database`). */
  inbox?: Inbox;
  place: Place;
  /**
   * The oldest event time to fetch (default: 30 days ago, as far back as Stripe keeps events); callers
   * refuse an older one (`withinEventRetention`), which would claim events Stripe no longer lists.
   */
  since?: Date;
  requestsPerSecond: number;
  limiter?: Limiter;
  /** Called after each page is stored, per pass over the event types; a throw stops the catch-up there. */
  onProgress?: OnProgress;
};

export type CatchUpResult = {
  /** Events Stripe listed of the types the mirror handles. */
  listed: number;
  /** Events the inbox did not have yet. */
  stored: number;
  /** Events already there (delivered by webhook, or caught up before). */
  duplicates: number;
};

/** How far back Stripe's `/v1/events` lists events, and so how far back a catch-up can go. */
export const CATCH_UP_DAYS = 30;

/** Why a catch-up from further back is refused, and what heals older drift instead. */
export const CATCH_UP_RETENTION_MESSAGE =
  `Stripe keeps events for ${CATCH_UP_DAYS} days, so a catch-up cannot go further back; ` +
  'backfill or reconcile with fix heals older drift';

/**
 * Whether a catch-up from `since` finds every event it claims to, at `now`. A minute's slack lets a
 * "30 days ago" computed just before the call through: Stripe's own cut-off is no sharper.
 */
export const withinEventRetention = (since: Date, now: Date): boolean =>
  since.getTime() >= now.getTime() - CATCH_UP_DAYS * 86_400_000 - 60_000;

// Stripe's `types[]` filter takes at most 20 event types per request.
const TYPES_PER_REQUEST = 20;

/**
 * Events missed during an outage, fetched from `GET /v1/events` and stored through the inbox exactly as
 * a delivered webhook is: duplicates are no-ops, and the workers apply them under the ordering rule, so
 * the page order (newest first) does not matter.
 */
export async function catchUp(options: CatchUpOptions): Promise<CatchUpResult> {
  const inbox = options.inbox ?? new Inbox(options.database.pool);
  const limiter = options.limiter ?? createLimiter(options.requestsPerSecond);
  const until = Math.floor(Date.now() / 1000);
  const since = options.since ? Math.floor(options.since.getTime() / 1000) : until - CATCH_UP_DAYS * 86_400;
  const result: CatchUpResult = { listed: 0, stored: 0, duplicates: 0 };
  const passes = chunks(catchUpTypes(options.place), TYPES_PER_REQUEST);
  for (const [index, types] of passes.entries()) {
    let listed = 0;
    let reached: number | null = null;
    for await (const page of eventPages(options, limiter, types, since)) {
      const outcomes = await Promise.all(
        page.data.map((event) => inbox.store(toInboxEvent(inPlace(wireShape(event), options.place)))),
      );
      result.listed += outcomes.length;
      result.stored += outcomes.filter((outcome) => outcome === 'stored').length;
      result.duplicates += outcomes.filter((outcome) => outcome === 'duplicate').length;
      listed += outcomes.length;
      reached = page.data.at(-1)?.created ?? reached;
      const pass = { pass: index + 1, passes: passes.length, since, until, listed, reached };
      await options.onProgress?.(catchUpProgress({ ...pass, finished: isLastPage(page) }));
    }
  }
  return result;
}

/**
 * The event types the mirror handles, and on a connected account those that grant or revoke the
 * platform's access: a missed grant would keep the account out of the scheduled reconcile.
 */
const catchUpTypes = (place: Place): string[] => [
  ...Object.keys(EVENT_HANDLERS),
  ...(place.stripeAccount === PLATFORM ? [] : Object.keys(ACCESS_EVENTS)),
];

const isLastPage = (page: Stripe.ApiList<Stripe.Event>) => !page.has_more || page.data.length === 0;

/** The pages of the place's events of `types` created from `since` on, newest first. */
async function* eventPages(
  options: CatchUpOptions,
  limiter: Limiter,
  types: string[],
  since: number,
): AsyncGenerator<Stripe.ApiList<Stripe.Event>> {
  let cursor: string | undefined;
  for (;;) {
    const params: Stripe.EventListParams = {
      types,
      created: { gte: since },
      limit: 100,
      ...(cursor ? { starting_after: cursor } : {}),
    };
    const page = await limiter(() => options.stripe.events.list(params, requestOptions(options.place)));
    yield page;
    if (isLastPage(page)) return;
    cursor = page.data.at(-1)?.id;
  }
}

/**
 * The event as it belongs to the place it was listed from: its `account` is the place's connected
 * account, or none on the platform. A webhook names the account; a listed event is the place's by being
 * listed there, whether or not Stripe repeats it in the event.
 */
function inPlace(event: unknown, place: Place): unknown {
  const { account: _, ...rest } = event as { account?: unknown };
  return place.stripeAccount === PLATFORM ? rest : { ...rest, account: place.stripeAccount };
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
