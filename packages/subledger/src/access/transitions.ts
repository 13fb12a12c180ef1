import type { Access, AccessState } from './state.ts';

/** An account's state as last recorded, and when it was worked out (Unix seconds). */
export type RecordedAccess = {
  state: AccessState;
  changesAt: number | null;
  evaluatedAt: number;
};

/** The mirror's newest write to one of the account's subscriptions. */
export type LatestWrite = {
  eventId: string | null;
  source: 'event' | 'fetch';
  /** The event's `created`, or the second a fetch read Stripe. */
  version: number;
  /** When the mirror wrote it (Unix seconds). */
  writtenAt: number;
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
 * The transition from what was recorded to the state now, if the state changed (pure). A write to the
 * mirror since the last evaluation caused it (that write's event, at the event's time); otherwise the
 * clock did (a trial, a scheduled cancel or a grace ran out), at the moment recorded for it.
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
  if (latest && (!recorded || latest.writtenAt >= recorded.evaluatedAt))
    return { ...change, cause: latest.source, causeEventId: latest.eventId, at: latest.version };
  const ranOut = recorded?.changesAt;
  return { ...change, cause: 'clock', causeEventId: null, at: ranOut && ranOut <= now ? ranOut : now };
}
