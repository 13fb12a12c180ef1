import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { historyOf } from './history.ts';

/**
 * An auditor that trusts nothing of the code under test: it reads the emulator's own store (Stripe's
 * truth) and the mirror tables with plain SQL, and says, per object, what differs. It predicts every row
 * from Stripe's state, not from events, so a lost, doubled or reordered event shows up as a difference.
 *
 * What a row is compared with: the stored object as JSON. Every retrieve endpoint of the mirrored kinds
 * answers the stored object itself (expansion is off unless asked for, and JSON drops `undefined`), so
 * this is exactly what `stripe.X.retrieve` renders, read without an API call that could change state.
 * The entitlement summary has no endpoint of its own: it is predicted from the customer's active
 * entitlements as the emulator builds the summary its events carry.
 * How each event was applied (the inbox, a log of every mirror write) is audited in `apply-audit.ts`.
 */

export type Problem =
  /** Stripe has it (and announced it), the mirror does not. */
  | 'missing'
  /** The mirror has a live row Stripe does not have. */
  | 'unexpected'
  /** Both have it; `fields` are the paths whose values differ. */
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
};

/**
 * Fields Stripe changes without sending an event, so no webhook consumer can follow them; only a read
 * from Stripe (reconcile) brings them. Finalizing an invoice bumps its customer's
 * `next_invoice_sequence` and no `customer.updated` is sent.
 */
export const SILENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  customer: ['next_invoice_sequence'],
};

type Json = unknown;
type StoredObject = { id: string; object?: string; customer?: unknown; [key: string]: unknown };
type Partition = ReturnType<Emulator['partition']>;
type MirrorRow = { id: string; data: Json; deleted: boolean };

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

const SUMMARY = 'entitlements.active_entitlement_summary';

/** Every mirror table, for the write log. */
export const MIRROR_TABLES = [
  ...SOURCES.map((source) => source.mirror),
  'subscription_items',
  'active_entitlements',
];

/** Compares the mirror with the emulator's state, in every partition (platform and connected, test and live). */
export async function audit(
  emulator: Emulator,
  pool: pg.Pool,
  options: AuditOptions = {},
): Promise<Difference[]> {
  const differences: Difference[] = [];
  for (const partition of emulator.store.partitions()) {
    const place = { stripeAccount: partition.account ?? 'platform', livemode: partition.livemode };
    const announced = announcedIds(partition);
    const required = (kind: string, id: string) =>
      options.require === 'all' || announced.get(kind)?.has(id) === true;
    for (const source of SOURCES) {
      const rows = await mirrorRows(pool, source.mirror, place);
      const live = new Map(rowsOf(partition, source.live).map((object) => [object.id, object]));
      const deleted = new Set(
        source.deleted ? rowsOf(partition, source.deleted).map((object) => object.id) : [],
      );
      const silent = options.require === 'all' ? [] : (SILENT_FIELDS[source.kind] ?? []);
      differences.push(
        ...compareKind(source.kind, live, deleted, rows, (id) => required(source.kind, id), silent),
      );
      differences.push(...(await compareItems(pool, source, live, rows, place)));
    }
    // A deleted customer has no summary in Stripe: its row may be absent or a tombstone, or (as reconcile
    // agrees) live with no entitlements.
    const gone = new Set(rowsOf(partition, 'deleted_customer').map((customer) => customer.id));
    const summaries = expectedSummaries(partition, announced.get(SUMMARY) ?? new Set());
    const rows = await mirrorRows(pool, 'active_entitlements', place);
    for (const id of gone) {
      summaries.delete(id);
      if (rows.get(id) && isEmptySummaryRow(rows.get(id) as MirrorRow)) rows.delete(id);
    }
    for (const id of rows.keys())
      if (!summaries.has(id) && !gone.has(id)) summaries.set(id, summaryOf(partition, id));
    differences.push(...compareKind(SUMMARY, summaries, gone, rows, (id) => required(SUMMARY, id)));
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
  required: (id: string) => boolean,
  silent: readonly string[] = [],
): Difference[] {
  const differences: Difference[] = [];
  const comparable = (value: Json) => (silent.length === 0 ? value : without(value, silent));
  const add = (id: string, problem: Problem, fields: string[] = []) =>
    differences.push({ kind, id, problem, fields });
  for (const [id, object] of live) {
    const row = rows.get(id);
    if (!row) {
      if (required(id)) add(id, 'missing');
    } else if (row.deleted) add(id, 'wrongly_deleted');
    else {
      const fields = differingPaths(comparable(toJson(object)), comparable(row.data));
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

/** A mirrored subscription's items are the items it lists, each equal to Stripe's. */
async function compareItems(
  pool: pg.Pool,
  source: KindSource,
  live: Map<string, StoredObject>,
  rows: Map<string, MirrorRow>,
  place: { stripeAccount: string; livemode: boolean },
): Promise<Difference[]> {
  if (source.kind !== 'subscription') return [];
  const items = await pool.query<MirrorRow & { subscription_id: string }>(
    `select id, data, deleted, subscription_id from subscription_items where stripe_account = $1 and livemode = $2`,
    [place.stripeAccount, place.livemode],
  );
  const bySubscription = new Map<string, Map<string, MirrorRow>>();
  for (const row of items.rows) {
    const group = bySubscription.get(row.subscription_id) ?? new Map<string, MirrorRow>();
    group.set(row.id, row);
    bySubscription.set(row.subscription_id, group);
  }
  const differences: Difference[] = [];
  for (const [id, row] of rows) {
    const subscription = live.get(id);
    if (!subscription || row.deleted) continue;
    const expected = new Map(
      ((subscription.items as { data?: StoredObject[] } | undefined)?.data ?? []).map((item) => [
        item.id,
        item,
      ]),
    );
    differences.push(
      ...compareKind(
        'subscription_item',
        expected,
        new Set(),
        bySubscription.get(id) ?? new Map(),
        () => true,
      ),
    );
  }
  return differences;
}

/** Ids of each kind that some event carried: a webhook could have told the mirror about them. */
function announcedIds(partition: Partition): Map<string, Set<string>> {
  const announced = new Map<string, Set<string>>();
  for (const event of rowsOf(partition, 'event')) {
    const object = (event.data as { object?: StoredObject } | undefined)?.object;
    if (!object?.object) continue;
    const id = object.object === SUMMARY ? idOf(object.customer) : object.id;
    if (!id) continue;
    const ids = announced.get(object.object) ?? new Set<string>();
    ids.add(id);
    announced.set(object.object, ids);
  }
  return announced;
}

/** The summary of every customer who holds entitlements or was announced to (even with none left). */
function expectedSummaries(partition: Partition, announced: Set<string>): Map<string, Json> {
  const customers = new Set(announced);
  for (const holding of rowsOf(partition, 'active_entitlement_holding'))
    customers.add(String(holding.customer));
  return new Map([...customers].map((customer) => [customer, summaryOf(partition, customer)]));
}

const isEmptySummaryRow = (row: MirrorRow) =>
  !row.deleted &&
  ((row.data as { entitlements?: { data?: unknown[] } }).entitlements?.data ?? []).length === 0;

/** Stripe's `entitlements.active_entitlement_summary` of a customer, newest entitlement first. */
function summaryOf(partition: Partition, customer: string): Json {
  const held = new Set(
    rowsOf(partition, 'active_entitlement_holding')
      .filter((holding) => holding.customer === customer)
      .map((holding) => holding.id),
  );
  const data = partition
    .table<StoredObject>('entitlements.active_entitlement')
    .newestFirst()
    .filter((entitlement) => held.has(entitlement.id));
  return toJson({
    object: SUMMARY,
    customer,
    entitlements: { object: 'list', data, has_more: false, url: `/v1/customer/${customer}/entitlements` },
    livemode: partition.livemode,
  });
}

async function mirrorRows(
  pool: pg.Pool,
  table: string,
  place: { stripeAccount: string; livemode: boolean },
): Promise<Map<string, MirrorRow>> {
  const result = await pool.query<MirrorRow>(
    `select id, data, deleted from ${table} where stripe_account = $1 and livemode = $2`,
    [place.stripeAccount, place.livemode],
  );
  return new Map(result.rows.map((row) => [row.id, row]));
}

export const rowsOf = (partition: Partition, table: string): StoredObject[] => [
  ...partition.table<StoredObject>(table).values(),
];

const toJson = (value: unknown): Json => JSON.parse(JSON.stringify(value));

function without(value: Json, fields: readonly string[]): Json {
  if (!isRecord(value)) return value;
  const copy = { ...value };
  for (const field of fields) delete copy[field];
  return copy;
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}

/** The paths (`items.data[0].quantity`) at which two JSON values differ, at most `limit` of them. */
export function differingPaths(expected: Json, actual: Json, limit = 12): string[] {
  const paths: string[] = [];
  const walk = (a: Json, b: Json, path: string) => {
    if (paths.length >= limit) return;
    if (Object.is(a, b)) return;
    const bothArrays = Array.isArray(a) && Array.isArray(b);
    const bothObjects = isRecord(a) && isRecord(b);
    if (bothArrays) {
      if (a.length !== b.length) paths.push(`${path || '.'}.length ${a.length} ≠ ${b.length}`);
      for (let index = 0; index < Math.min(a.length, b.length); index++)
        walk(a[index], b[index], `${path}[${index}]`);
    } else if (bothObjects) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
        walk(a[key], b[key], path ? `${path}.${key}` : key);
    } else paths.push(`${path || '.'}: ${brief(a)} ≠ ${brief(b)}`);
  };
  walk(expected, actual, '');
  return paths;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function brief(value: Json): string {
  const text = value === undefined ? 'absent' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
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
