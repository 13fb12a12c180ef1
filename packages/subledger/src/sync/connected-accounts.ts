import type pg from 'pg';
import { PLATFORM } from '../store/index.ts';
import type { ClaimedEvent } from './claim.ts';
import { ACCESS_EVENTS, type AccountAuthorization } from './handlers.ts';
import { settlePlaceRefetches } from './refetch-queue.ts';
import type { Place } from './stripe-reads.ts';

/**
 * The record of which connected accounts revoked the platform's access (`connected_accounts`): written by
 * the worker from `account.application.deauthorized` and `account.application.authorized`, read by the
 * scheduled reconcile (which leaves such accounts out until a read shows access is back, see
 * `access-probe.ts`) and the refetcher (which settles their reads `unfetchable` instead of retrying
 * 403s for ever). The account's mirror rows are left as they are: they are its history, and
 * reconciling it again once it grants access brings them up to date.
 */

/** What an access event says, about which place, as of when. */
export type AccessEvent = Place & { eventId: string; authorization: AccountAuthorization; created: number };

/**
 * Whether `a` is Stripe's later word than `b`: the later `created`. Within one second the two cannot be
 * ordered, and access granted wins: a wrong "revoked" would give up reads and reconciles that may
 * succeed, a wrong "granted" costs only the 403s that tell the truth.
 */
export function supersedes(a: AccessEvent, b: AccessEvent): boolean {
  if (a.created !== b.created) return a.created > b.created;
  return a.authorization === 'authorized' && b.authorization === 'deauthorized';
}

/**
 * Pure: the access events of a claimed batch, the newest of each place among them (`newest`), and the
 * outcomes of the others: `superseded` by a newer one of its place, `ignored` when it names no connected
 * account (only a Connect event names the account it is about).
 */
export function planAccessEvents(claimed: readonly ClaimedEvent[]): {
  newest: AccessEvent[];
  outcomes: Map<string, string>;
} {
  const newest = new Map<string, AccessEvent>();
  const outcomes = new Map<string, string>();
  for (const event of claimed) {
    const authorization = ACCESS_EVENTS[event.type];
    if (!authorization) continue;
    if (event.stripeAccount === PLATFORM) {
      outcomes.set(event.id, 'ignored');
      continue;
    }
    const access = { ...placeOf(event), eventId: event.id, authorization, created: event.created };
    const key = placeKey(access);
    const other = newest.get(key);
    const kept = !other || supersedes(access, other) ? access : other;
    if (other && other !== kept) outcomes.set(other.eventId, 'superseded');
    if (kept !== access) outcomes.set(access.eventId, 'superseded');
    newest.set(key, kept);
  }
  return { newest: [...newest.values()], outcomes };
}

/**
 * Applies a claimed batch's access events in the worker's transaction; returns their outcomes. A batch
 * with none costs no query. An event older than the record (`supersedes`) is `stale`. An account whose
 * access is revoked by it has its queued reads settled `unfetchable` at once: each would answer 403.
 */
export async function applyAccessEvents(
  client: pg.ClientBase,
  claimed: readonly ClaimedEvent[],
): Promise<Map<string, string>> {
  const { newest, outcomes } = planAccessEvents(claimed);
  if (newest.length === 0) return outcomes;
  const written = new Set(await recordAccess(client, newest));
  for (const access of newest)
    outcomes.set(access.eventId, written.has(access.eventId) ? 'applied' : 'stale');
  const revoked = newest.filter(
    (access) => access.authorization === 'deauthorized' && written.has(access.eventId),
  );
  await settlePlaceRefetches(client, revoked, 'unfetchable');
  return outcomes;
}

/** Upserts the access of each place unless the record holds a later word (see `supersedes`); one query. */
export async function recordAccess(
  client: pg.Pool | pg.ClientBase,
  events: AccessEvent[],
): Promise<string[]> {
  const { rows } = await client.query<{ event_id: string }>(
    `insert into connected_accounts as c (stripe_account, livemode, deauthorized_at, event_created, event_id)
     select a, l, case when revoked then to_timestamp(created) end, created, id
     from unnest($1::text[], $2::boolean[], $3::boolean[], $4::bigint[], $5::text[]) as t(a, l, revoked, created, id)
     on conflict (stripe_account, livemode) do update
       set deauthorized_at = excluded.deauthorized_at, event_created = excluded.event_created,
           event_id = excluded.event_id, updated_at = now()
       where excluded.event_created > c.event_created
          or (excluded.event_created = c.event_created
              and excluded.deauthorized_at is null and c.deauthorized_at is not null)
     returning c.event_id`,
    [
      events.map((event) => event.stripeAccount),
      events.map((event) => event.livemode),
      events.map((event) => event.authorization === 'deauthorized'),
      events.map((event) => event.created),
      events.map((event) => event.eventId),
    ],
  );
  return rows.map((row) => row.event_id);
}

/**
 * The places among `places` whose connected account has revoked the platform's access, as given (so a
 * caller may filter by identity); one query, and none when every place is the platform.
 */
export async function deauthorizedAmong<P extends Place>(
  db: pg.Pool | pg.ClientBase,
  places: readonly P[],
): Promise<P[]> {
  const connected = places.filter((place) => place.stripeAccount !== PLATFORM);
  if (connected.length === 0) return [];
  const { rows } = await db.query<{ stripe_account: string; livemode: boolean }>(
    `select stripe_account, livemode from connected_accounts
     where deauthorized_at is not null
       and (stripe_account, livemode) in (select * from unnest($1::text[], $2::boolean[]))`,
    [connected.map((place) => place.stripeAccount), connected.map((place) => place.livemode)],
  );
  const revoked = new Set(
    rows.map((row) => placeKey({ stripeAccount: row.stripe_account, livemode: row.livemode })),
  );
  return connected.filter((place) => revoked.has(placeKey(place)));
}

/** When the account revoked the platform's access in this mode, or null while access is granted. */
export async function deauthorizedAt(db: pg.Pool | pg.ClientBase, place: Place): Promise<Date | null> {
  const { rows } = await db.query<{ deauthorized_at: Date | null }>(
    'select deauthorized_at from connected_accounts where stripe_account = $1 and livemode = $2',
    [place.stripeAccount, place.livemode],
  );
  return rows[0]?.deauthorized_at ?? null;
}

/**
 * For a command run on one connected account (`reconcile --account`): turns Stripe's 403 for it into one
 * clear line saying that the account does not let the platform in, and since when if the record says
 * so. Stripe's own message is left out: it quotes part of the API key. Any other error is thrown as is.
 */
export function explainRefusedAccess(db: pg.Pool, place: Place): (error: unknown) => Promise<never> {
  return async (error) => {
    if (place.stripeAccount === PLATFORM || !isAccessRefused(error)) throw error;
    const since = await deauthorizedAt(db, place).catch(() => null);
    const mode = place.livemode ? 'live' : 'test';
    const { statusCode, code } = error as { statusCode?: number; code?: string };
    const answer = [statusCode, code].filter(Boolean).join(' ');
    throw new Error(
      `Stripe refused access to ${place.stripeAccount} in ${mode} mode (${answer}): ` +
        (since
          ? `the account revoked the platform's access at ${since.toISOString()} (account.application.deauthorized)`
          : "the account may have revoked the platform's access, or is not connected to it") +
        '; its mirror rows are kept as they are',
      { cause: error },
    );
  };
}

/** Stripe's answer for an account the key may not act for: 403, `account_invalid`. */
export const isAccessRefused = (error: unknown): boolean => {
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  return statusCode === 403 || code === 'account_invalid';
};

const placeOf = (place: Place): Place => ({ stripeAccount: place.stripeAccount, livemode: place.livemode });
const placeKey = (place: Place) => `${place.stripeAccount}|${place.livemode}`;
