import { getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { ACCESS_CHANNEL, type AccessChange, encodeChanges } from '../store/changes.ts';
import type { Db } from '../store/database.ts';
import { subscriptionItems } from '../store/schema/mirror.ts';
import { type Link, linkAccounts } from './account-links.ts';
import { pgArray, type UpsertOptions, upsertStatement, writeTogether } from './bulk-upsert.ts';
import { listsAllItems, subscriptionItemColumns, subscriptionItemsOf } from './columns.ts';
import { idOf, type StripeObject } from './envelope.ts';
import { creditGrantRequests } from './grant-requests.ts';
import { type ColumnContext, KINDS, type KindName } from './kinds.ts';
import { goneMarks, isBareTombstone } from './tombstones.ts';

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
 * missed (see `unprovenReads`). Returns the writes that took effect. `alongside` gives, from those,
 * the caller's own last writes, sent with the writer's last statement rather than after it.
 */
export async function writeMirror(
  db: Executor,
  writes: MirrorWrite[],
  context: ColumnContext,
  alongside: (written: MirrorWrite[]) => (SQL | null)[] = () => [],
): Promise<MirrorWrite[]> {
  const stored = await upsert(db, writes, context);
  const written = stored.map((entry) => entry.write);
  await replaceSubscriptionItems(
    db,
    written.filter((write) => write.kind === 'subscription'),
  );
  // Linked as the rows hold them: a bare tombstone states what the object it was laid over stated.
  const links = await linkAccounts(
    db,
    stored.map(({ write, object }) => ({ ...write, object })),
    context,
  );
  const last = [accessNotice(stored, links), creditGrantRequests(written), ...alongside(written)];
  await writeTogether(
    db,
    last.filter((statement) => statement !== null),
  );
  return written;
}

/** A write that took effect, and the object its row now holds (see `tombstonesUpsert`). */
type Stored = { write: MirrorWrite; object: StripeObject };

const MIRROR_KEY = ['id', 'stripeAccount', 'livemode'];

/**
 * One upsert of a kind's objects, and one of its bare tombstones (see `tombstonesUpsert`), each keeping
 * the one ordering rule of the kind's writes, taken from their earliest read. They are sent together, as
 * one statement, unless two of them would write one row. Returns the writes that took effect, kind by
 * kind.
 */
async function upsert(db: Executor, writes: MirrorWrite[], context: ColumnContext): Promise<Stored[]> {
  const upserts: KindUpsert[] = [];
  for (const [kind, group] of groupByKind(writes)) {
    const target: Target = {
      kind,
      context,
      updateWhere: newerThanRow(KINDS[kind].table, earliestRead(group)),
    };
    const objects = group.filter((write) => !isBareTombstone(write));
    const tombstones = group.filter(isBareTombstone);
    if (objects.length > 0) upserts.push(objectsUpsert(target, objects));
    if (tombstones.length > 0) upserts.push(tombstonesUpsert(target, tombstones));
  }
  const statements = upserts.map((each) => each.statement);
  const returned: Record<string, unknown>[][] = [];
  if (!writesOneRowTwice(writes)) returned.push(...(await writeTogether(db, statements)));
  else for (const statement of statements) returned.push(...(await writeTogether(db, [statement])));
  return upserts.flatMap((each, index) => each.stored(returned[index] ?? []));
}

/** An upsert, and how to tell the writes that took effect from the rows it returned. */
type KindUpsert = { statement: SQL; stored: (returned: Record<string, unknown>[]) => Stored[] };

type Target = { kind: KindName; context: ColumnContext; updateWhere: SQL };

const writesOneRowTwice = (writes: MirrorWrite[]) =>
  new Set(writes.map((write) => `${write.kind}|${keyOf(write)}`)).size < writes.length;

function upsertOf(
  target: Target,
  writes: MirrorWrite[],
  options: Pick<UpsertOptions, 'rules' | 'returning'> = {},
): SQL {
  const { table, columns } = KINDS[target.kind];
  const rows = writes.map((write) => ({ ...commonColumns(write), ...columns(write.object, target.context) }));
  const statement = upsertStatement(table, rows, {
    key: MIRROR_KEY,
    updateWhere: target.updateWhere,
    // The database's clock, as every read's start is (see `databaseNow`).
    stamped: ['syncedAt'],
    ...options,
  });
  if (!statement) throw new Error('an upsert of no rows');
  return statement;
}

function objectsUpsert(target: Target, writes: MirrorWrite[]): KindUpsert {
  return {
    statement: upsertOf(target, writes),
    stored: (returned) => {
      const took = new Set(returned.map(rowKeyOf));
      return writes
        .filter((write) => took.has(keyOf(write)))
        .map((write) => ({ write, object: write.object }));
    },
  };
}

/**
 * A tombstone whose object says nothing but that it is gone (Stripe answered 404 to a read, or showed a
 * deleted customer as such a stub) is laid over the row's last known object, as a tombstone from an
 * event keeps its object: the row keeps its typed columns (whose subscription it was, `customer_id`) and
 * its object, marked gone. Written as it came, the stub wiped them, and no access cache heard of the
 * customer whose subscription disappeared. The objects the rows now hold are what is notified from.
 */
function tombstonesUpsert(target: Target, tombstones: MirrorWrite[]): KindUpsert {
  const marks = goneMarks(target.kind);
  const marked = tombstones.map((write) => ({ ...write, object: { ...write.object, ...marks } }));
  // What the tombstone does not say (a null typed column), the row keeps.
  const typed = Object.keys(KINDS[target.kind].columns(marks, target.context));
  return {
    statement: upsertOf(target, marked, {
      rules: { data: 'merge', ...Object.fromEntries(typed.map((field) => [field, 'coalesce' as const])) },
      returning: ['data'],
    }),
    stored: (returned) => {
      const held = new Map(returned.map((row) => [rowKeyOf(row), row.data as StripeObject]));
      return tombstones.flatMap((write) => {
        const object = held.get(keyOf(write));
        return object ? [{ write, object }] : [];
      });
    },
  };
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
  const removed = sql`
    delete from ${subscriptionItems} i
    using unnest(${pgArray(complete.map((write) => write.id))}::text[],
                 ${pgArray(complete.map((write) => write.stripeAccount))}::text[],
                 ${pgArray(complete.map((write) => write.livemode))}::boolean[]) as s(id, account, livemode)
    where i.subscription_id = s.id and i.stripe_account = s.account and i.livemode = s.livemode
      and i.id <> all(${pgArray(rows.map((row) => row.id))}::text[])
    returning i.id`;
  // The items removed and the items written are not the same rows: one statement holds both.
  const written = upsertStatement(subscriptionItems, rows, { key: MIRROR_KEY });
  await writeTogether(db, written ? [removed, written] : [removed]);
}

/**
 * Tells access caches what this write changed; Postgres delivers it at commit, to every process. Each
 * link made or withdrawn names its account and customer, so the account a customer left is refreshed
 * as well as the one it joined. Null when nothing changed.
 */
function accessNotice(stored: Stored[], links: Link[]): SQL | null {
  const changes: AccessChange[] = [];
  for (const { write, object } of stored) {
    const change = accessChangeOf(write, object);
    if (change) changes.push(change);
  }
  for (const link of links)
    changes.push({ kind: 'account', id: link.accountId }, { kind: 'customer', id: link.customerId });
  const payloads = encodeChanges(changes);
  if (payloads.length === 0) return null;
  return sql`select pg_notify(${ACCESS_CHANNEL}, payload) is null as notified
             from unnest(${pgArray(payloads)}::text[]) as payload`;
}

/** The change a write makes to access; a customer is read from the object its row now holds. */
function accessChangeOf(write: MirrorWrite, stored: StripeObject): AccessChange | null {
  switch (write.kind) {
    case 'product':
    case 'price':
      return { kind: 'catalog' };
    case 'subscription':
    case 'invoice': {
      const customer = idOf(stored.customer);
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
