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
  /**
   * For `different`: every field that differs is one Stripe changes without sending an event
   * (`SILENT_FIELDS`). No webhook was missed, and none could have brought it: only a read does.
   */
  silent?: true;
};

/**
 * Fields Stripe changes without sending any event, so a mirror kept by webhooks alone lags on them until
 * its next read. Finalizing an invoice bumps its customer's `next_invoice_sequence`, and no
 * `customer.updated` is sent.
 */
export const SILENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  customer: ['next_invoice_sequence'],
};

/** The drift that tells of something missed (a webhook, a write): all but the `silent`. */
export const missedDrift = (drift: readonly DriftItem[]): DriftItem[] => drift.filter((item) => !item.silent);

/** What the mirror holds for an object: its stored object and whether it is a tombstone. */
export type MirrorState = { data: unknown; deleted: boolean };

/**
 * Compares Stripe's current object (null: Stripe no longer has it) with the mirror's row (null: no row).
 * Pure. The comparison is exact: every field of the stored object must deep-equal Stripe's, since the
 * mirror keeps the object as Stripe renders it. One case is not drift: a customer without entitlements
 * has no summary row until an entitlement changes (Stripe sends no event before), so an empty summary
 * and a missing row agree. A difference in `SILENT_FIELDS` alone is drift marked `silent`.
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
  if (fields.length === 0) return null;
  const silent = fields.every((field) => SILENT_FIELDS[kind]?.includes(field));
  return { kind, id, problem: 'different', fields, ...(silent ? { silent: true } : {}) };
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
