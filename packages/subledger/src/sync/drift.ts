import type { StripeObject } from './envelope.ts';
import type { KindName } from './kinds.ts';

/**
 * How the mirror disagrees with Stripe about one object; `account_link`: a link of the customer to an
 * account that its mirrored customer or checkout sessions state is missing, or one they do not state.
 */
export type DriftProblem = 'missing_in_mirror' | 'missing_in_stripe' | 'different' | 'account_link';

export type DriftItem = {
  kind: KindName;
  id: string;
  problem: DriftProblem;
  /** For `different`: the top-level fields whose values differ, sorted; for `account_link`, the account. */
  fields?: string[];
};

/** What the mirror holds for an object: its stored object and whether it is a tombstone. */
export type MirrorState = { data: unknown; deleted: boolean };

/**
 * Compares Stripe's current object (null: Stripe no longer has it) with the mirror's row (null: no row).
 * Pure. The comparison is exact: every field of the stored object must deep-equal Stripe's, since the
 * mirror keeps the object as Stripe renders it. One case is not drift: a customer without entitlements
 * has no summary row until an entitlement changes (Stripe sends no event before), so an empty summary
 * and a missing row agree.
 */
export function driftOf(
  kind: KindName,
  id: string,
  stripe: StripeObject | null,
  mirror: MirrorState | null,
): DriftItem | null {
  const live = mirror !== null && !mirror.deleted;
  if (stripe === null)
    return live && !isEmptySummary(kind, mirror.data) ? { kind, id, problem: 'missing_in_stripe' } : null;
  if (mirror === null)
    return isEmptySummary(kind, stripe) ? null : { kind, id, problem: 'missing_in_mirror' };
  if (mirror.deleted) return { kind, id, problem: 'different', fields: ['deleted'] };
  const fields = differingFields(stripe, mirror.data);
  return fields.length > 0 ? { kind, id, problem: 'different', fields } : null;
}

/** The top-level fields of two objects whose values are not deep-equal (as JSON: absent = undefined). */
export function differingFields(stripe: unknown, mirror: unknown): string[] {
  const left = asRecord(stripe);
  const right = asRecord(mirror);
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...keys].filter((key) => !jsonEqual(left[key], right[key])).sort();
}

/** Deep equality of JSON values; object key order does not matter (jsonb does not keep it). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((value, index) => jsonEqual(value, b[index]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!jsonEqual(left[key], right[key])) return false;
  return true;
}

function isEmptySummary(kind: KindName, object: unknown): boolean {
  if (kind !== 'entitlements.active_entitlement_summary') return false;
  const data = (asRecord(asRecord(object).entitlements) as { data?: unknown }).data;
  return !Array.isArray(data) || data.length === 0;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
