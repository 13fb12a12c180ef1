import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { type Partition, placeOf, rowsOf, rowsOfEveryPartition } from './auditor-stripe.ts';

/**
 * What the workload must have exercised for a chaos run to prove anything: the paths an injected bug
 * would hide in are taken, not merely available. Each check reads the inbox and the mirror.
 */

const DELETIONS = [
  { type: 'customer.deleted', table: 'customers' },
  { type: 'product.deleted', table: 'products' },
  { type: 'invoice.deleted', table: 'invoices' },
];

/**
 * Each kind of deletion event was applied from its payload: the write log holds the tombstone it wrote
 * (the row may be written again since, by a read that a tie of an earlier event asked for).
 */
export async function assertDeletionsApplied(pool: pg.Pool): Promise<void> {
  for (const { type, table } of DELETIONS) {
    const { rows } = await pool.query<{ outcome: string | null; tombstones: number }>(
      `select e.outcome, count(w.seq)::int as tombstones from stripe_events e
       left join audit_mirror_writes w
         on w.new_event_id = e.id and w.table_name = $2 and w.new_deleted and w.source = 'event'
       where e.type = $1 group by e.id, e.outcome`,
      [type, table],
    );
    assert.ok(
      rows.some((row) => row.outcome === 'applied' && row.tombstones === 1),
      `no ${type} was applied as a tombstone: ${JSON.stringify(rows)}`,
    );
  }
}

/** Each kind whose objects embed one page of a list, and the list. */
const EMBEDDED = [
  { object: 'subscription', list: 'items' },
  { object: 'invoice', list: 'lines' },
  { object: 'entitlements.active_entitlement_summary', list: 'entitlements' },
];

/**
 * Events whose object embeds one page of a longer list (`has_more`) were read from Stripe instead:
 * a subscription's among them, and none was applied as it came (a deletion aside, which is applied as
 * a tombstone and removes every item). The reason a refetch was asked for is not kept once it is read,
 * so the inbox's outcomes are the evidence.
 */
export async function assertIncompleteListsRefetched(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ id: string; type: string; kind: string; outcome: string | null }>(
    `select e.id, e.type, e.payload->'data'->'object'->>'object' as kind, e.outcome
     from stripe_events e
     join unnest($1::text[], $2::text[]) as embedded(object, list)
       on e.payload->'data'->'object'->>'object' = embedded.object
     where e.payload->'data'->'object'->embedded.list->>'has_more' = 'true'
     order by e.seq`,
    [EMBEDDED.map((kind) => kind.object), EMBEDDED.map((kind) => kind.list)],
  );
  const applied = rows.filter((row) => row.outcome === 'applied' && !row.type.endsWith('.deleted'));
  assert.deepEqual(applied, [], 'events listing one page of more were applied as they came');
  assert.ok(
    rows.some((row) => row.kind === 'subscription' && ['refetch', 'refetched'].includes(row.outcome ?? '')),
    `no subscription event listing one page of its items was refetched: ${JSON.stringify(rows)}`,
  );
}

/**
 * An item removed from a live subscription was written to the mirror while its subscription listed
 * it (the write log), and no removed item is mirrored now. Needs `installWriteLog`.
 */
export async function assertItemRemovalsApplied(emulator: Emulator, pool: pg.Pool): Promise<void> {
  const listed = new Set(rowsOfEveryPartition(emulator, 'subscription_item').map((item) => item.id));
  const { rows } = await pool.query<{ id: string; mirrored: boolean }>(
    `select distinct w.id, exists (select 1 from subscription_items i where i.id = w.id) as mirrored
     from audit_mirror_writes w where w.table_name = 'subscription_items' order by w.id`,
  );
  const removed = rows.filter((row) => !listed.has(row.id));
  assert.ok(removed.length > 0, 'no item was written to the mirror and then removed in Stripe');
  assert.deepEqual(
    removed.filter((row) => row.mirrored).map((row) => row.id),
    [],
    'items Stripe removed are still mirrored',
  );
}

type CustomerEvent = {
  created: number;
  type: string;
  data: {
    object: { id: string; metadata?: Record<string, string> };
    previous_attributes?: { metadata?: Record<string, string> };
  };
};

const ACCOUNT_KEY = 'subledger_account_id';

/**
 * A customer's account was moved twice within one second, and each customer moved is linked, in the
 * end, to the account its metadata names last, and to no other.
 */
export async function assertAccountMovesLinked(emulator: Emulator, pool: pg.Pool): Promise<void> {
  const partitions = emulator.store.partitions();
  const moves = partitions.flatMap((partition) =>
    accountMoves(partition).map((move) => ({ partition, move })),
  );
  const seconds = new Set<string>();
  const twice = moves.some(({ move }) => {
    const key = `${move.data.object.id}@${move.created}`;
    if (seconds.has(key)) return true;
    seconds.add(key);
    return false;
  });
  assert.ok(twice, `no customer's account was moved twice within a second: ${moves.length} moves`);
  const moved = new Map(moves.map(({ partition, move }) => [move.data.object.id, partition]));
  for (const [customer, partition] of moved) {
    const current = partition
      .table<{ id: string; metadata: Record<string, string> }>('customer')
      .get(customer);
    if (!current) continue;
    const { stripeAccount, livemode } = placeOf(partition);
    const { rows } = await pool.query<{ account_id: string }>(
      `select account_id from account_customers
       where customer_id = $1 and stripe_account = $2 and livemode = $3`,
      [customer, stripeAccount, livemode],
    );
    assert.deepEqual(
      rows.map((row) => row.account_id),
      [current.metadata[ACCOUNT_KEY]],
      `${customer} is not linked to the account it was moved to last`,
    );
  }
}

/** The `customer.updated` events of a partition that changed the customer's account. */
const accountMoves = (partition: Partition): CustomerEvent[] =>
  (rowsOf(partition, 'event') as unknown as CustomerEvent[]).filter(
    (event) =>
      event.type === 'customer.updated' &&
      event.data.previous_attributes?.metadata !== undefined &&
      event.data.previous_attributes.metadata[ACCOUNT_KEY] !== event.data.object.metadata?.[ACCOUNT_KEY],
  );

/**
 * The item, list and account paths above, for a run of the seeded workload with the write log
 * installed. Deletions are checked apart: a reconcile run after them reads their rows back.
 */
export async function assertItemsAndLinksCovered(emulator: Emulator, pool: pg.Pool): Promise<void> {
  await assertItemRemovalsApplied(emulator, pool);
  await assertIncompleteListsRefetched(pool);
  await assertAccountMovesLinked(emulator, pool);
}
