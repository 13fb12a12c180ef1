import type { Database } from '../store/index.ts';
import { INBOX_CHANNEL } from './inbox.ts';

/**
 * Replay: an inbox event goes back to `pending`, available now, and the workers run it again through
 * the same ordering rule as a first delivery. An event whose payload is not newer than the row is
 * settled `stale` (or read from Stripe when that cannot be proven), so a replay never applies an event
 * twice. Its history stays: `received_at`, `attempts` and `last_error` are kept, `outcome` is cleared.
 * It gets the whole retry budget again (`replayed_attempts`): a replay follows a fix, and one failure
 * then, an outage say, must not dead-letter it at once.
 */

export type ReplaySelector =
  | { eventId: string }
  /** Dead-lettered events, and events waiting for a retry after a failure. */
  | { failed: true }
  /**
   * Events settled `unfetchable`: their object could not be read from Stripe (no key was configured,
   * or its connected account had revoked access). Replayed, they are read again.
   */
  | { unfetchable: true }
  /** Events received at or after this time. */
  | { since: Date };

export type ReplayResult =
  | { ok: true; queued: number; eventIds?: string[] }
  | { ok: false; code: 'event_not_found'; message: string };

const REQUEUE = `update stripe_events
  set status = 'pending', available_at = now(), outcome = null, replayed_attempts = attempts`;

/** Each `where` is a selector's condition; `$1` is its one parameter, when it has one. */
const WHERE = {
  eventId: 'id = $1',
  failed: `status = 'dead' or (status = 'pending' and last_error is not null)`,
  unfetchable: `status = 'processed' and outcome = 'unfetchable'`,
  since: 'received_at >= $1',
};

export async function replay(database: Database, selector: ReplaySelector): Promise<ReplayResult> {
  if ('eventId' in selector) {
    const { rows } = await database.pool.query<{ ids: string[] }>(requeue(WHERE.eventId, 'ids'), [
      selector.eventId,
    ]);
    const ids = rows[0]?.ids ?? [];
    if (ids.length === 0)
      return { ok: false, code: 'event_not_found', message: `no event ${selector.eventId} in the inbox` };
    return { ok: true, queued: ids.length, eventIds: ids };
  }
  const [where, parameters] =
    'since' in selector
      ? [WHERE.since, [selector.since]]
      : ['failed' in selector ? WHERE.failed : WHERE.unfetchable, []];
  const { rows } = await database.pool.query<{ queued: number }>(requeue(where, 'count'), parameters);
  return { ok: true, queued: rows[0]?.queued ?? 0 };
}

/** One statement: requeue, then wake the workers (a notification only says "look"). */
function requeue(where: string, answer: 'ids' | 'count'): string {
  const result =
    answer === 'ids'
      ? 'array(select id from requeued) as ids'
      : '(select count(*)::int from requeued) as queued';
  return `with requeued as (${REQUEUE} where ${where} returning id)
    select ${result}, pg_notify('${INBOX_CHANNEL}', '') is null as notified`;
}

/** What the inbox remembers of one event's life, as `subledger inspect event` shows it. */
export type EventRecord = {
  id: string;
  type: string;
  object_type: string | null;
  object_id: string | null;
  stripe_account: string;
  livemode: boolean;
  created: number;
  status: string;
  outcome: string | null;
  attempts: number;
  /** `attempts` when it was last replayed (0: never). */
  replayed_attempts: number;
  last_error: string | null;
  received_at: string;
  available_at: string;
  processed_at: string | null;
  /** The read from Stripe it waits for (outcome `refetch`), while queued: its failures and next try. */
  read: { attempts: number; last_error: string | null; available_at: string } | null;
};

export async function describeEvent(database: Database, eventId: string): Promise<EventRecord | null> {
  const { rows } = await database.pool.query<EventRecord>(
    `select e.id, e.type, e.object_type, e.object_id, e.stripe_account, e.livemode, e.created, e.status,
       e.outcome, e.attempts, e.replayed_attempts, e.last_error, ${iso('e.received_at', 'received_at')},
       ${iso('e.available_at', 'available_at')}, ${iso('e.processed_at', 'processed_at')},
       case when r.object_id is null then null else json_build_object('attempts', r.attempts,
         'last_error', r.last_error, 'available_at', ${iso('r.available_at')}) end as read
     from stripe_events e
     left join sync_refetches r on e.outcome = 'refetch' and r.object_type = e.object_type
       and r.object_id = e.object_id and r.stripe_account = e.stripe_account and r.livemode = e.livemode
     where e.id = $1`,
    [eventId],
  );
  return rows[0] ?? null;
}

/** A timestamp as ISO 8601 text in UTC, named `as` when given. */
const iso = (column: string, as?: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')${as ? ` as ${as}` : ''}`;
