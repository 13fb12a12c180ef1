import { createsObject, type Handling, opensRow } from './handlers.ts';

/**
 * The ordering rule, pure: which event of a claimed batch may write each object, and which objects must
 * be read from Stripe instead. A payload is applied only when it is provably newer than the row:
 * Stripe's `created` is in whole seconds, so two events in one second cannot be ordered by it (unless
 * one is the object's creation, which comes first, and no deletion shares its second), and a payload
 * in another API version may be shaped differently. Both cases, deletes followed by updates and rows
 * we have never seen whose history the batch does not hold from its start (the object's creation), are
 * settled by a fetch of the current object.
 */

export type EventFacts = {
  id: string;
  type: string;
  created: number;
  apiVersion: string | null;
  /** kind, Stripe account, mode and id: the mirror row this event is about. */
  objectKey: string;
  handling: Handling;
};

export type RowVersion = { lastEventId: string | null; lastEventCreated: number; deleted: boolean };

/**
 * `incomplete_list`: the payload lists one page of a longer embedded list (a subscription's items).
 * `lost_race`: the event was planned against a row another transaction wrote before it committed (a
 * reconcile creating it), and the database's check refused the write.
 */
export type RefetchReason =
  | 'same_second'
  | 'api_version'
  | 'unknown_row'
  | 'after_delete'
  | 'incomplete_list'
  | 'lost_race';

export type Outcome = 'applied' | 'stale' | 'superseded' | 'refetch';

export type Decision =
  | { action: 'apply'; event: EventFacts }
  | { action: 'refetch'; reason: RefetchReason; knownCreated: number }
  | { action: 'none' };

export type Plan = { decisions: Map<string, Decision>; outcomes: Map<string, Outcome> };

export function planBatch(
  events: readonly EventFacts[],
  versions: ReadonlyMap<string, RowVersion>,
  apiVersion: string,
): Plan {
  const plan: Plan = { decisions: new Map(), outcomes: new Map() };
  for (const [objectKey, group] of groupBy(events, (event) => event.objectKey)) {
    const decision = decide(group, versions.get(objectKey), apiVersion);
    plan.decisions.set(objectKey, decision);
    for (const event of group) plan.outcomes.set(event.id, outcomeOf(event, decision));
  }
  return plan;
}

function decide(group: EventFacts[], row: RowVersion | undefined, apiVersion: string): Decision {
  const newest = Math.max(...group.map((event) => event.created));
  if (row && newest < row.lastEventCreated) return { action: 'none' };
  const atNewest = latestOf(group.filter((event) => event.created === newest));
  const candidate = atNewest[0] as EventFacts;
  const refetch = (reason: RefetchReason): Decision => ({
    action: 'refetch',
    reason,
    knownCreated: Math.max(newest, row?.lastEventCreated ?? 0),
  });
  if (row && newest === row.lastEventCreated)
    return atNewest.length === 1 && row.lastEventId === candidate.id
      ? { action: 'none' }
      : refetch('same_second');
  if (atNewest.length > 1) return refetch('same_second');
  if (candidate.apiVersion !== apiVersion) return refetch('api_version');
  if (!row)
    return candidate.handling.action === 'tombstone' || group.some((event) => opensRow(event.type))
      ? { action: 'apply', event: candidate }
      : refetch('unknown_row');
  if (row.deleted && candidate.handling.action === 'upsert') return refetch('after_delete');
  return { action: 'apply', event: candidate };
}

/**
 * The events of one second that may hold the object's newest state. Its creation event comes before
 * every other event about it, so beside another event of that second it is not the newest; the other
 * events of a second cannot be ordered. A deletion ends that rule: products and plans (prices) with a
 * custom id can be deleted and created again under the same id, so a creation in the second of a
 * deletion may be the newer of the two, and the whole second is kept (it is refetched).
 */
function latestOf(inOneSecond: EventFacts[]): EventFacts[] {
  const after = inOneSecond.filter((event) => !createsObject(event.type));
  const deletion = after.some((event) => event.handling.action === 'tombstone');
  return after.length > 0 && !deletion ? after : inOneSecond;
}

function outcomeOf(event: EventFacts, decision: Decision): Outcome {
  if (decision.action === 'refetch') return 'refetch';
  if (decision.action === 'apply') return decision.event.id === event.id ? 'applied' : 'superseded';
  return 'stale';
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** Delay before retry `attempt` (1-based) of an event whose processing failed: 1 s, 2 s, 4 s … 1 h. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(2 ** Math.max(0, attempt - 1), 3600);
}

/** Attempts after which a failing event is dead-lettered with its last error. */
export const MAX_ATTEMPTS = 10;
