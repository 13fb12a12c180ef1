import { readdirSync, readFileSync } from 'node:fs';
import { and, eq, getTableColumns } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Emulator } from 'stripe-emulator';
import { EMULATOR_KEY } from '../../src/cli/local-stripe.ts';
import type { Db } from '../../src/store/database.ts';
import { PLATFORM, subscriptionItems } from '../../src/store/schema/mirror.ts';
import type { StripeObject } from '../../src/sync/envelope.ts';
import { KINDS, type KindName } from '../../src/sync/kinds.ts';

/** Stripe's real shapes (see shared/stripe-reference/README.md), read where they lie, never copied. */
export const REFERENCE = new URL('../../../../../shared/stripe-reference/', import.meta.url);

export type ReferenceEvent = {
  id: string;
  type: string;
  api_version?: string | null;
  created: number;
  livemode: boolean;
  data: { object: StripeObject };
};

export type ReferenceFile = { file: string; event: ReferenceEvent };

/** The real webhook events, in file order: two collections, mostly of old API versions. */
export function referenceEvents(): ReferenceFile[] {
  const folder = new URL('events/', REFERENCE);
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, event: JSON.parse(readFileSync(new URL(file, folder), 'utf8')) }));
}

const SUMMARY = 'entitlements.active_entitlement_summary';

/** The objects the mirror keeps, by their `object` value, and where Stripe answers for one. */
const STRIPE_PATHS: Record<string, (id: string) => string> = {
  customer: (id) => `/v1/customers/${id}`,
  product: (id) => `/v1/products/${id}`,
  price: (id) => `/v1/prices/${id}`,
  subscription: (id) => `/v1/subscriptions/${id}`,
  invoice: (id) => `/v1/invoices/${id}`,
  invoice_payment: (id) => `/v1/invoice_payments/${id}`,
  'checkout.session': (id) => `/v1/checkout/sessions/${id}`,
  payment_intent: (id) => `/v1/payment_intents/${id}`,
  // No endpoint returns a summary: it is read as the customer's active entitlements.
  [SUMMARY]: (customer) => `/v1/entitlements/active_entitlements?customer=${customer}`,
};

export type MirroredObject = { kind: KindName; id: string };

/** The mirror row an object belongs in, or null when the mirror keeps no such object (or it has no id). */
export function mirroredAs(object: StripeObject): MirroredObject | null {
  const kind = object.object;
  if (kind === undefined || !(kind in STRIPE_PATHS)) return null;
  const id = kind === SUMMARY ? object.customer : object.id;
  return typeof id === 'string' ? { kind: kind as KindName, id } : null;
}

/** An object as Stripe holds it after its events; `object` is null once deleted. */
export type LatestState = MirroredObject & { object: StripeObject | null };

/**
 * What Stripe holds of each object the events name: its newest event's object, or nothing when that
 * event deleted it (`<object>.deleted`; a canceled subscription stays). Stripe says nothing of an object
 * after its deletion, so within one second a deletion is the newest; otherwise the last file wins.
 */
export function latestStates(files: readonly ReferenceFile[]): LatestState[] {
  const deletes = (event: ReferenceEvent, { kind }: MirroredObject) => event.type === `${kind}.deleted`;
  const newest = new Map<string, ReferenceEvent>();
  for (const { event } of files) {
    const mirrored = mirroredAs(event.data.object);
    if (!mirrored) continue;
    const key = `${mirrored.kind} ${mirrored.id}`;
    const before = newest.get(key);
    if (
      !before ||
      event.created > before.created ||
      (event.created === before.created && !deletes(before, mirrored))
    )
      newest.set(key, event);
  }
  return [...newest.values()].map((event) => {
    const mirrored = mirroredAs(event.data.object) as MirroredObject;
    return { ...mirrored, object: deletes(event, mirrored) ? null : event.data.object };
  });
}

const itemIdsOf = (object: StripeObject): string[] =>
  ((object.items as { data?: StripeObject[] } | undefined)?.data ?? []).map((item) => String(item.id));

/**
 * Puts the objects into the emulator's test-mode platform store as they are, so that reading one
 * answers its real shape. Left out, so that Stripe answers 404 for them:
 * - a summary: Stripe derives it from the customer's subscriptions and product features, which the
 *   events do not hold;
 * - a subscription whose items reuse the ids of another's (stripe-ruby-mock zeroes its ids): Stripe's
 *   are unique, and the mirror keys items by id alone.
 */
export function seedStripe(emulator: Emulator, states: readonly LatestState[]): void {
  const partition = emulator.partition(null, false);
  const itemIds = new Set<string>();
  for (const { kind, object } of states) {
    if (!object || kind === SUMMARY || itemIdsOf(object).some((id) => itemIds.has(id))) continue;
    for (const id of itemIdsOf(object)) itemIds.add(id);
    partition.table<{ id: string }>(kind).insert(structuredClone(object) as { id: string });
  }
}

/** What Stripe answers for a mirrored object, as JSON on the wire. */
export async function stripeAnswer(
  stripeUrl: string,
  { kind, id }: MirroredObject,
): Promise<{ status: number; body: unknown }> {
  const path = STRIPE_PATHS[kind]?.(id) as string;
  const response = await fetch(new URL(path, stripeUrl), {
    headers: { authorization: `Bearer ${EMULATOR_KEY}` },
  });
  return { status: response.status, body: await response.json() };
}

/** An object's test-mode mirror row, its columns named as the schema names them. */
export async function mirrorRow(
  db: Db,
  { kind, id }: MirroredObject,
  stripeAccount = PLATFORM,
): Promise<Record<string, unknown> | undefined> {
  const { table } = KINDS[kind];
  const columns = getTableColumns(table) as Record<string, AnyPgColumn>;
  const key = and(
    eq(columns.id as AnyPgColumn, id),
    eq(columns.stripeAccount as AnyPgColumn, stripeAccount),
    eq(columns.livemode as AnyPgColumn, false),
  );
  const rows = await db.select().from(table).where(key);
  return rows[0] as Record<string, unknown> | undefined;
}

/** A subscription's item rows, as `[item id, price id, quantity]`, by item id. */
export async function itemRows(
  db: Db,
  subscriptionId: string,
): Promise<[string, string | null, number | null][]> {
  const rows = await db
    .select()
    .from(subscriptionItems)
    .where(eq(subscriptionItems.subscriptionId, subscriptionId))
    .orderBy(subscriptionItems.id);
  return rows.map((row) => [row.id, row.priceId, row.quantity]);
}
