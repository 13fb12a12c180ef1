import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { SILENT_FIELDS } from '../../src/sync/drift.ts';
import { ACCOUNT_KEY, type ColumnContext, columnDifferences, typedColumnSelects } from './auditor-columns.ts';
import { differingPaths, type Json, toJson, without } from './auditor-json.ts';
import { compareLinks } from './auditor-links.ts';
import {
  announcedIds,
  expectedSummaries,
  type Partition,
  type Place,
  placeOf,
  rowsOf,
  type StoredObject,
  SUMMARY,
  summaryOf,
} from './auditor-stripe.ts';
import { historyOf } from './history.ts';

export { rowsOf };

/**
 * An auditor that trusts nothing of the code under test: it reads the emulator's own store (Stripe's
 * truth) and the mirror tables with plain SQL, and says, per object, what differs. It predicts every row
 * from Stripe's state, not from events, so a lost, doubled or reordered event shows up as a difference.
 *
 * What a row is compared with: the stored object as JSON. Every retrieve endpoint of the mirrored kinds
 * answers the stored object itself (expansion is off unless asked for, and JSON drops `undefined`), so
 * this is exactly what `stripe.X.retrieve` renders, read without an API call that could change state.
 * The entitlement summary has no endpoint of its own: it is predicted from the customer's active
 * entitlements as the emulator builds the summary its events carry. Each row's typed columns are
 * predicted from the same object (`auditor-columns.ts`), and the account links from the customers and
 * checkout sessions (`auditor-links.ts`).
 * How each event was applied (the inbox, a log of every mirror write) is audited in `apply-audit.ts`.
 */

export type Problem =
  /** Stripe has it (and announced it), or its state implies a link; the mirror does not. */
  | 'missing'
  /** The mirror has a live row (or a link) Stripe does not have. */
  | 'unexpected'
  /** Both have it; `fields` are the paths (or `column x`, the typed columns) whose values differ. */
  | 'different'
  /** Stripe deleted it; the mirror still shows it live. */
  | 'not_deleted'
  /** Stripe has it live; the mirror marks it deleted. */
  | 'wrongly_deleted';

export type Difference = { kind: string; id: string; problem: Problem; fields: string[] };

export type AuditOptions = {
  /**
   * `announced` (default): an object must be mirrored when some event about it exists, i.e. a
   * webhook could have told us, and fields Stripe changes without any event are not compared.
   * `all`: every object of a mirrored kind must be mirrored, every field equal, as after reconcile.
   */
  require?: 'announced' | 'all';
  /** The checkout-session metadata keys the stack names accounts with (`SUBLEDGER_ACCOUNT_KEYS`). */
  accountKeys?: readonly string[];
};

type MirrorRow = { id: string; data: Json; deleted: boolean; columns: Json };

/** A mirrored kind: the emulator tables that hold it (live, and deleted stubs) and its mirror table. */
type KindSource = { kind: string; live: string; deleted?: string; mirror: string };

const SOURCES: KindSource[] = [
  { kind: 'customer', live: 'customer', deleted: 'deleted_customer', mirror: 'customers' },
  { kind: 'product', live: 'product', deleted: 'deleted_product', mirror: 'products' },
  { kind: 'price', live: 'price', mirror: 'prices' },
  { kind: 'subscription', live: 'subscription', mirror: 'subscriptions' },
  { kind: 'invoice', live: 'invoice', mirror: 'invoices' },
  { kind: 'invoice_payment', live: 'invoice_payment', mirror: 'invoice_payments' },
  { kind: 'checkout.session', live: 'checkout.session', mirror: 'checkout_sessions' },
  { kind: 'payment_intent', live: 'payment_intent', mirror: 'payment_intents' },
  { kind: 'billing.meter', live: 'billing.meter', mirror: 'billing_meters' },
];

/** Every mirror table, for the write log. */
export const MIRROR_TABLES = [
  ...SOURCES.map((source) => source.mirror),
  'subscription_items',
  'active_entitlements',
];

/** What is required of one kind's rows, and how they are read. */
type Check = {
  table: string;
  /** Whether the object must be mirrored by now (else its absence is no difference). */
  required: (id: string) => boolean;
  /** Fields not compared: Stripe changes them without an event. */
  silent?: readonly string[];
  context: ColumnContext;
};

/** Compares the mirror with the emulator's state, in every partition (platform and connected, test and live). */
export async function audit(
  emulator: Emulator,
  pool: pg.Pool,
  options: AuditOptions = {},
): Promise<Difference[]> {
  const selects = await typedColumnSelects(pool, MIRROR_TABLES);
  const context = { accountKeys: options.accountKeys ?? [ACCOUNT_KEY] };
  const differences: Difference[] = [];
  for (const partition of emulator.store.partitions()) {
    const place = placeOf(partition);
    const read = (table: string) => mirrorRows(pool, table, place, selects.get(table) ?? `'{}'::jsonb`);
    const announced = announcedIds(partition);
    const required = (kind: string, id: string) =>
      options.require === 'all' || announced.get(kind)?.has(id) === true;
    const checkOf = (table: string, kind: string, silent: readonly string[] = []): Check => ({
      table,
      required: (id) => required(kind, id),
      silent,
      context,
    });
    for (const source of SOURCES) {
      const rows = await read(source.mirror);
      const live = new Map(rowsOf(partition, source.live).map((object) => [object.id, object]));
      const deleted = new Set(
        source.deleted ? rowsOf(partition, source.deleted).map((object) => object.id) : [],
      );
      const silent = options.require === 'all' ? [] : (SILENT_FIELDS[source.kind] ?? []);
      differences.push(
        ...compareKind(source.kind, live, deleted, rows, checkOf(source.mirror, source.kind, silent)),
      );
      if (source.kind === 'subscription')
        differences.push(...compareItems(live, rows, await read('subscription_items'), context));
    }
    const summaries = await read('active_entitlements');
    differences.push(
      ...compareSummaries(partition, announced, summaries, checkOf('active_entitlements', SUMMARY)),
    );
    differences.push(...(await compareLinks(pool, partition, place, context, required)));
  }
  return differences;
}

/** One line per difference, for assertion messages. */
export function describeDifferences(differences: readonly Difference[], limit = 40): string {
  const lines = differences
    .slice(0, limit)
    .map((d) => `${d.kind} ${d.id}: ${d.problem}${d.fields.length > 0 ? ` (${d.fields.join(', ')})` : ''}`);
  if (differences.length > limit) lines.push(`… and ${differences.length - limit} more`);
  return lines.join('\n');
}

function compareKind(
  kind: string,
  live: Map<string, Json>,
  deleted: Set<string>,
  rows: Map<string, MirrorRow>,
  check: Check,
): Difference[] {
  const differences: Difference[] = [];
  const silent = check.silent ?? [];
  const comparable = (value: Json) => (silent.length === 0 ? value : without(value, silent));
  const add = (id: string, problem: Problem, fields: string[] = []) =>
    differences.push({ kind, id, problem, fields });
  for (const [id, object] of live) {
    const row = rows.get(id);
    if (!row) {
      if (check.required(id)) add(id, 'missing');
    } else if (row.deleted) add(id, 'wrongly_deleted');
    else {
      const fields = [
        ...differingPaths(comparable(toJson(object)), comparable(row.data)),
        ...columnDifferences(check.table, object, row.columns, check.context),
      ];
      if (fields.length > 0) add(id, 'different', fields);
    }
  }
  // A deleted object may be absent from the mirror or marked deleted; it must not look live.
  for (const [id, row] of rows) {
    if (live.has(id) || row.deleted) continue;
    add(id, deleted.has(id) ? 'not_deleted' : 'unexpected');
  }
  return differences;
}

/**
 * A mirrored subscription's items are the items it lists, each equal to Stripe's, columns and all; an
 * item of no live mirrored subscription is unexpected.
 */
function compareItems(
  live: Map<string, StoredObject>,
  rows: Map<string, MirrorRow>,
  items: Map<string, MirrorRow>,
  context: ColumnContext,
): Difference[] {
  const bySubscription = new Map<string, Map<string, MirrorRow>>();
  for (const item of items.values()) {
    const subscription = String((item.columns as { subscription_id?: unknown }).subscription_id);
    bySubscription.set(subscription, (bySubscription.get(subscription) ?? new Map()).set(item.id, item));
  }
  const check = { table: 'subscription_items', required: () => true, context };
  const differences: Difference[] = [];
  for (const [id, row] of rows) {
    const subscription = live.get(id);
    if (!subscription || row.deleted) continue;
    const listed = (subscription.items as { data?: StoredObject[] } | undefined)?.data ?? [];
    const expected = new Map(listed.map((item) => [item.id, item]));
    differences.push(
      ...compareKind('subscription_item', expected, new Set(), bySubscription.get(id) ?? new Map(), check),
    );
    bySubscription.delete(id);
  }
  for (const [subscription, orphans] of bySubscription)
    for (const id of orphans.keys())
      differences.push({
        kind: 'subscription_item',
        id,
        problem: 'unexpected',
        fields: [`column subscription_id: ${subscription}`],
      });
  return differences;
}

/**
 * Each customer's entitlement summary. A deleted customer has no summary in Stripe: its row may be
 * absent or a tombstone, or (as reconcile agrees) live with no entitlements.
 */
function compareSummaries(
  partition: Partition,
  announced: Map<string, Set<string>>,
  rows: Map<string, MirrorRow>,
  check: Check,
): Difference[] {
  const gone = new Set(rowsOf(partition, 'deleted_customer').map((customer) => customer.id));
  const summaries = expectedSummaries(partition, announced.get(SUMMARY) ?? new Set());
  for (const id of gone) {
    summaries.delete(id);
    if (rows.get(id) && isEmptySummaryRow(rows.get(id) as MirrorRow)) rows.delete(id);
  }
  for (const id of rows.keys())
    if (!summaries.has(id) && !gone.has(id)) summaries.set(id, summaryOf(partition, id));
  return compareKind(SUMMARY, summaries, gone, rows, check);
}

const isEmptySummaryRow = (row: MirrorRow) =>
  !row.deleted &&
  ((row.data as { entitlements?: { data?: unknown[] } }).entitlements?.data ?? []).length === 0;

/** A mirror table's rows of one place, with their typed columns read by `columns` (a SQL expression). */
async function mirrorRows(
  pool: pg.Pool,
  table: string,
  place: Place,
  columns: string,
): Promise<Map<string, MirrorRow>> {
  const result = await pool.query<MirrorRow>(
    `select id, data, deleted, ${columns} as columns from ${table} where stripe_account = $1 and livemode = $2`,
    [place.stripeAccount, place.livemode],
  );
  return new Map(result.rows.map((row) => [row.id, row]));
}

/** How many differing objects a failure tells the history of. */
const HISTORIES = 4;

/** Fails with every difference listed, and some objects' histories, when the mirror is not equal to Stripe. */
export async function assertMirrorEqualsStripe(
  emulator: Emulator,
  pool: pg.Pool,
  options: AuditOptions = {},
): Promise<void> {
  const differences = await audit(emulator, pool, options);
  if (differences.length === 0) return;
  const history = await historyOf(pool, [...new Set(differences.map((d) => d.id))].slice(0, HISTORIES));
  assert.fail(`the mirror differs from Stripe:\n${describeDifferences(differences)}\n\nhistory:\n${history}`);
}
