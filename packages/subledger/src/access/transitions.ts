import type { Access, AccessState } from './state.ts';

/** An account's state as last recorded, and the mirror write it was worked out from. */
export type RecordedAccess = {
  state: AccessState;
  changesAt: number | null;
  /** The `key` of the newest subscription write seen then; null when there was none. */
  lastWrite: string | null;
};

/** The mirror's newest write to one of the account's subscriptions. */
export type LatestWrite = {
  /** Names the write: the subscription and its row version; every write makes a new one. */
  key: string;
  eventId: string | null;
  source: 'event' | 'fetch';
  /** The event's `created`, or the second a fetch read Stripe. */
  version: number;
};

export type Transition = {
  from: AccessState;
  to: AccessState;
  reason: string;
  subscriptionId: string | null;
  cause: 'event' | 'fetch' | 'clock';
  causeEventId: string | null;
  at: number;
};

/**
 * The transition from what was recorded to the state now, if the state changed (pure). A mirror write
 * the last evaluation had not seen caused it (that write's event, at the event's time); otherwise the
 * clock did (a trial, a scheduled cancel or a grace ran out), at the moment recorded for it. Writes are
 * told apart by key, not by time: a write committed just after an evaluation may carry an earlier time.
 */
export function transitionOf(
  recorded: RecordedAccess | null,
  access: Access,
  latest: LatestWrite | null,
  now: number,
): Transition | null {
  const from = recorded?.state ?? 'none';
  if (from === access.state) return null;
  const change = { from, to: access.state, reason: access.reason, subscriptionId: access.subscriptionId };
  if (latest && latest.key !== recorded?.lastWrite)
    return { ...change, cause: latest.source, causeEventId: latest.eventId, at: latest.version };
  const ranOut = recorded?.changesAt;
  return {
    ...change,
    cause: 'clock',
    causeEventId: null,
    at: ranOut && ranOut <= now ? ranOut : Math.floor(now),
  };
}
