import { getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { ACCESS_CHANNEL, type AccessChange, encodeChanges } from '../store/changes.ts';
import type { Db } from '../store/database.ts';
import { subscriptionItems } from '../store/schema/mirror.ts';
import { type Link, linkAccounts } from './account-links.ts';
import { bulkUpsert, pgArray } from './bulk-upsert.ts';
import { listsAllItems, subscriptionItemColumns, subscriptionItemsOf } from './columns.ts';
import { idOf, type StripeObject } from './envelope.ts';
import { requestCreditGrants } from './grant-requests.ts';
import { type ColumnContext, KINDS, type KindName } from './kinds.ts';

/** One object to write into the mirror, with the evidence of how new it is. */
export type MirrorWrite = {
  kind: KindName;
  id: string;
  stripeAccount: string;
  livemode: boolean;
  object: StripeObject;
  deleted: boolean;
  /** Event `created` (source `event`) or the second a fetch read the object (source `fetch`). */
  version: number;
} & (
  | { source: 'event'; eventId: string }
  | {
      source: 'fetch';
      eventId: null;
      /** When Stripe was asked, by the database's clock (`databaseNow`): a row written before then holds
       * nothing the read has not seen. */
      readAt: Date;
    }
);

type Executor = Pick<Db, 'insert' | 'delete' | 'execute'>;

/**
 * Writes objects with one multi-row upsert per table. The database re-checks the ordering rule, so a
 * write that lost a race to a newer one changes nothing: an event must be strictly newer than the row;
 * a fetch, which read Stripe after every event it knew of, must be newer too, or of the same second as
 * a row written before its read began. A row of that second written later may hold a change the read
 * missed (see `unprovenReads`). Returns the writes that took effect.
 */
export async function writeMirror(
  db: Executor,
  writes: MirrorWrite[],
  context: ColumnContext,
): Promise<MirrorWrite[]> {
  const written: MirrorWrite[] = [];
  for (const [kind, group] of groupByKind(writes)) written.push(...(await upsert(db, kind, group, context)));
  await replaceSubscriptionItems(
    db,
    written.filter((write) => write.kind === 'subscription'),
  );
  const links = await linkAccounts(db, written, context);
  await notifyAccess(db, written, links);
  await requestCreditGrants(db, written);
  return written;
}

const MIRROR_KEY = ['id', 'stripeAccount', 'livemode'];

async function upsert(db: Executor, kind: KindName, writes: MirrorWrite[], context: ColumnContext) {
  const { table, columns } = KINDS[kind];
  const rows = writes.map((write) => ({ ...commonColumns(write), ...columns(write.object, context) }));
  const returned = await bulkUpsert(db, table, rows, {
    key: MIRROR_KEY,
    updateWhere: newerThanRow(table, earliestRead(writes)),
    // The database's clock, as every read's start is (see `databaseNow`).
    stamped: ['syncedAt'],
  });
  const took = new Set(returned.map(rowKeyOf));
  return writes.filter((write) => took.has(keyOf(write)));
}

function commonColumns(write: MirrorWrite) {
  return {
    id: write.id,
    stripeAccount: write.stripeAccount,
    livemode: write.livemode,
    data: write.object,
    deleted: write.deleted,
    lastEventId: write.eventId,
    lastEventCreated: write.version,
    source: write.source,
  };
}

/**
 * A fetch of the row's own second wins only over a row written before the batch's earliest read began:
 * the change that row holds happened before any of the reads, so each read has seen it.
 */
function newerThanRow(table: PgTable, readSince: Date | null): SQL {
  const { lastEventCreated, syncedAt } = getTableColumns(table) as Record<string, AnyPgColumn>;
  const sameSecond = readSince
    ? sql` or (excluded.source = 'fetch' and excluded.last_event_created = ${lastEventCreated}
              and ${syncedAt} < ${readSince.toISOString()}::timestamptz)`
    : sql``;
  return sql`(excluded.last_event_created > ${lastEventCreated}${sameSecond})`;
}

function earliestRead(writes: MirrorWrite[]): Date | null {
  let earliest: Date | null = null;
  for (const write of writes)
    if (write.source === 'fetch' && (!earliest || write.readAt < earliest)) earliest = write.readAt;
  return earliest;
}

/**
 * The fetches among `writes` that did not take effect because their row, of the same second, was
 * written after the read began: whether the read or the row is newer cannot be told, so the object must
 * be read again. (A fetch that lost to a strictly newer row needs nothing more.)
 */
export async function unprovenReads(
  db: Executor,
  writes: MirrorWrite[],
  written: MirrorWrite[],
): Promise<MirrorWrite[]> {
  const took = new Set(written);
  const missed = writes.filter((write) => write.source === 'fetch' && !took.has(write));
  const unproven: MirrorWrite[] = [];
  for (const [kind, group] of groupByKind(missed)) {
    const versions = await rowVersions(db, kind, group);
    unproven.push(...group.filter((write) => versions.get(keyOf(write)) === write.version));
  }
  return unproven;
}

const keyOf = (write: Pick<MirrorWrite, 'id' | 'stripeAccount' | 'livemode'>) =>
  `${write.id}|${write.stripeAccount}|${write.livemode}`;

/** The key of a row as the database returns it (`id`, `stripe_account`, `livemode`). */
const rowKeyOf = (row: Record<string, unknown>) =>
  keyOf({ id: String(row.id), stripeAccount: String(row.stripe_account), livemode: row.livemode === true });

async function rowVersions(
  db: Executor,
  kind: KindName,
  writes: MirrorWrite[],
): Promise<Map<string, number>> {
  const { table } = KINDS[kind];
  const result = await db.execute(sql`
    select t.id, t.stripe_account, t.livemode, t.last_event_created from ${table} t
    join unnest(${pgArray(writes.map((write) => write.id))}::text[],
                ${pgArray(writes.map((write) => write.stripeAccount))}::text[],
                ${pgArray(writes.map((write) => write.livemode))}::boolean[]) as w(id, account, livemode)
      on t.id = w.id and t.stripe_account = w.account and t.livemode = w.livemode`);
  const rows = (result as unknown as { rows: Record<string, unknown>[] }).rows;
  return new Map(rows.map((row) => [rowKeyOf(row), Number(row.last_event_created)]));
}

/**
 * A subscription's items follow it: the written subscriptions' lists replace what was stored, in one
 * delete and one upsert for the whole batch.
 */
async function replaceSubscriptionItems(db: Executor, subscriptions: MirrorWrite[]): Promise<void> {
  if (subscriptions.length === 0) return;
  const rows = subscriptions.flatMap((write) =>
    (write.deleted ? [] : subscriptionItemsOf(write.object)).map((item) => ({
      ...commonColumns({ ...write, id: String(item.id), object: item }),
      ...subscriptionItemColumns(item, write.id),
    })),
  ) as (typeof subscriptionItems.$inferInsert)[];
  // A list that is one page of more says nothing about the items it leaves out: none is removed for it.
  const complete = subscriptions.filter((write) => write.deleted || listsAllItems(write.object));
  await db.execute(sql`
    delete from ${subscriptionItems} i
    using unnest(${pgArray(complete.map((write) => write.id))}::text[],
                 ${pgArray(complete.map((write) => write.stripeAccount))}::text[],
                 ${pgArray(complete.map((write) => write.livemode))}::boolean[]) as s(id, account, livemode)
    where i.subscription_id = s.id and i.stripe_account = s.account and i.livemode = s.livemode
      and i.id <> all(${pgArray(rows.map((row) => row.id))}::text[])`);
  await bulkUpsert(db, subscriptionItems, rows, { key: MIRROR_KEY });
}

/**
 * Tells access caches what this write changed; Postgres delivers it at commit, to every process. A
 * relinked customer names both its account and itself, so the account it left is refreshed too.
 */
async function notifyAccess(db: Executor, written: MirrorWrite[], links: Link[]): Promise<void> {
  const changes: AccessChange[] = [];
  for (const write of written) {
    const change = accessChangeOf(write);
    if (change) changes.push(change);
  }
  for (const link of links)
    changes.push({ kind: 'account', id: link.accountId }, { kind: 'customer', id: link.customerId });
  const payloads = encodeChanges(changes);
  if (payloads.length > 0)
    await db.execute(
      sql`select pg_notify(${ACCESS_CHANNEL}, payload) from unnest(${pgArray(payloads)}::text[]) as payload`,
    );
}

function accessChangeOf(write: MirrorWrite): AccessChange | null {
  switch (write.kind) {
    case 'product':
    case 'price':
      return { kind: 'catalog' };
    case 'subscription':
    case 'invoice': {
      const customer = idOf(write.object.customer);
      return customer ? { kind: 'customer', id: customer } : null;
    }
    case 'entitlements.active_entitlement_summary':
      return { kind: 'customer', id: write.id };
    default:
      return null;
  }
}

function groupByKind(writes: MirrorWrite[]): Map<KindName, MirrorWrite[]> {
  const groups = new Map<KindName, MirrorWrite[]>();
  for (const write of writes) groups.set(write.kind, [...(groups.get(write.kind) ?? []), write]);
  return groups;
}
