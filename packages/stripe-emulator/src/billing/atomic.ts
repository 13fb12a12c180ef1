import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import { emitEvent } from '../events/emit.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import { BILLING_TABLES } from './store.ts';

/**
 * All-or-nothing billing operations. `payment_behavior=error_if_incomplete` asks Stripe to create or
 * change a subscription only if its invoice gets paid; when the charge fails the request answers 402
 * and nothing of the subscription remains. The engine runs such an operation normally, holding back
 * its billing events; a failure restores the billing tables and drops the held events. (The payment
 * intent and its charge did happen, so what the payments side recorded stays.)
 */
type HeldEvent = Parameters<typeof emitEvent>;

const held = new WeakMap<Partition, HeldEvent[]>();

/** Emits a billing event now, or holds it while an all-or-nothing operation runs. */
export function emitBillingEvent(
  scope: Scope,
  type: Stripe.Event.Type,
  object: { id: string; object: string },
  previous?: Record<string, unknown>,
  at?: number,
): void {
  const buffer = held.get(scope.partition);
  if (buffer) buffer.push([scope, type, structuredClone(object), previous && structuredClone(previous), at]);
  else emitEvent(scope, type, object, previous, at);
}

type Snapshot = Map<string, Map<string, { id: string }>>;

function snapshot(partition: Partition): Snapshot {
  const tables: Snapshot = new Map();
  for (const name of BILLING_TABLES) {
    const rows = new Map<string, { id: string }>();
    for (const row of partition.table<{ id: string }>(name).values()) rows.set(row.id, structuredClone(row));
    tables.set(name, rows);
  }
  return tables;
}

function restore(partition: Partition, tables: Snapshot): void {
  for (const [name, rows] of tables) {
    const table = partition.table<{ id: string }>(name);
    for (const row of [...table.values()]) if (!rows.has(row.id)) table.delete(row.id);
    for (const row of rows.values()) table.replace(row);
  }
}

export function atomically<T>(scope: Scope, operation: () => T): T {
  return withDeferredEntitlements(scope, () => allOrNothing(scope, operation));
}

function allOrNothing<T>(scope: Scope, operation: () => T): T {
  const partition = scope.partition;
  if (held.has(partition)) return operation();
  const before = snapshot(partition);
  const buffer: HeldEvent[] = [];
  held.set(partition, buffer);
  try {
    const result = operation();
    held.delete(partition);
    for (const event of buffer) emitEvent(...event);
    return result;
  } catch (error) {
    held.delete(partition);
    restore(partition, before);
    throw error;
  }
}
