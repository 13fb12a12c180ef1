import type Stripe from 'stripe';
import { type Database, PLATFORM } from '../store/index.ts';
import { toInboxEvent } from './envelope.ts';
import { EVENT_HANDLERS } from './handlers.ts';
import { Inbox } from './inbox.ts';
import { createLimiter, type Limiter } from './limiter.ts';
import { type Place, requestOptions, wireShape } from './stripe-reads.ts';

export type CatchUpOptions = {
  database: Database;
  stripe: Stripe;
  /** The inbox to store into (default: one over `database`). */
  inbox?: Inbox;
  place: Place;
  /** The oldest event time to fetch (default: 30 days ago, as far back as Stripe keeps events). */
  since?: Date;
  requestsPerSecond: number;
  limiter?: Limiter;
};

export type CatchUpResult = {
  /** Events Stripe listed of the types the mirror handles. */
  listed: number;
  /** Events the inbox did not have yet. */
  stored: number;
  /** Events already there (delivered by webhook, or caught up before). */
  duplicates: number;
};

export const CATCH_UP_DAYS = 30;

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
  const since = options.since ?? new Date(Date.now() - CATCH_UP_DAYS * 24 * 3600 * 1000);
  const result: CatchUpResult = { listed: 0, stored: 0, duplicates: 0 };
  for (const types of chunks(Object.keys(EVENT_HANDLERS), TYPES_PER_REQUEST)) {
    let cursor: string | null = null;
    for (;;) {
      const params: Stripe.EventListParams = {
        types,
        created: { gte: Math.floor(since.getTime() / 1000) },
        limit: 100,
        ...(cursor ? { starting_after: cursor } : {}),
      };
      const page = await limiter(() => options.stripe.events.list(params, requestOptions(options.place)));
      const outcomes = await Promise.all(
        page.data.map((event) => inbox.store(toInboxEvent(inPlace(wireShape(event), options.place)))),
      );
      result.listed += outcomes.length;
      result.stored += outcomes.filter((outcome) => outcome === 'stored').length;
      result.duplicates += outcomes.filter((outcome) => outcome === 'duplicate').length;
      cursor = page.data.at(-1)?.id ?? null;
      if (!page.has_more || cursor === null) break;
    }
  }
  return result;
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
