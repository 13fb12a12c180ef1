import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import {
  describeMisordered,
  emittedEventIds,
  type MisorderedWrite,
  readMisorderedWrites,
} from './apply-audit-order.ts';
import { MIRROR_TABLES } from './auditor.ts';

/**
 * How the events were applied, audited apart from the mirror's final state: `installWriteLog` puts a
 * trigger on every mirror table of the test database that records each committed write (old and new
 * version, event id), so tests can prove that no event was applied twice and no row ever moved
 * backwards, not even for a moment that a refetch healed (each event written was newer than its row, by
 * its second and by Stripe's emission order: `apply-audit-order.ts`), independently of the worker's own
 * bookkeeping; `auditInbox` holds the inbox up against the events Stripe sent.
 */

/**
 * Records every committed write to the mirror tables (a test-only trigger in the test database): which
 * row, its version before and after, the event (or fetch) that wrote it, and whether it wrote a
 * tombstone. Rolled-back writes leave no trace, as they leave no trace in the mirror.
 */
export async function installWriteLog(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table audit_mirror_writes (
      seq bigserial primary key, table_name text not null, id text not null, operation text not null,
      old_created bigint, new_created bigint not null, old_event_id text, new_event_id text, source text not null,
      new_deleted boolean
    );
    create function audit_mirror_write() returns trigger language plpgsql as $$
    begin
      insert into audit_mirror_writes
        (table_name, id, operation, old_created, new_created, old_event_id, new_event_id, source, new_deleted)
      values (tg_table_name, new.id, tg_op,
        case when tg_op = 'UPDATE' then old.last_event_created end, new.last_event_created,
        case when tg_op = 'UPDATE' then old.last_event_id end, new.last_event_id, new.source,
        (to_jsonb(new)->>'deleted')::boolean);
      return null;
    end $$;
    ${MIRROR_TABLES.map(
      (table) =>
        `create trigger audit_${table} after insert or update on ${table} for each row execute function audit_mirror_write();`,
    ).join('\n')}
    create table audit_settlements (seq bigserial primary key, event_id text not null, settled boolean not null);
    create function audit_settlement() returns trigger language plpgsql as $$
    begin
      insert into audit_settlements (event_id, settled) values (new.id, new.status = 'processed');
      return null;
    end $$;
    create trigger audit_settlement after update on stripe_events for each row
      when ((old.status = 'processed') is distinct from (new.status = 'processed')
            or (new.status = 'processed' and old.processed_at is distinct from new.processed_at))
      execute function audit_settlement();
  `);
}

/** A logged update of a row: its version before and after, and the events that wrote each (null: a fetch). */
export type VersionChange = {
  table: string;
  id: string;
  from: number;
  to: number;
  eventId: string | null;
  replacedEventId: string | null;
};

export type WriteLogFindings = {
  /** Events whose payload was written more than once (into objects' rows; items follow their subscription). */
  appliedTwice: { eventId: string; writes: number }[];
  /** Updates that lowered a row's version: the mirror moved backwards. */
  backwards: VersionChange[];
  /**
   * Events written over a row of their own second or a newer one. An event is applied only when it is
   * provably newer than the row: one of the row's second may be the older of the two (the writer cannot
   * tell), and readers see that older state until a refetch heals the row.
   * Subscription items are held to it too: their rows carry the version of the subscription write that
   * wrote them, never newer than the subscription's row, so a write that advanced the subscription
   * advances each of its items.
   */
  notNewer: VersionChange[];
  /**
   * Events settled (made `processed`, or given a new `processed_at` while processed) more often than
   * they were put back (a replay): processed twice.
   */
  settledTwice: { eventId: string; settled: number; requeued: number }[];
  writes: number;
};

export async function readWriteLog(pool: pg.Pool): Promise<WriteLogFindings> {
  const twice = await pool.query<{ event_id: string; writes: number }>(
    `select new_event_id as event_id, count(*)::int as writes from audit_mirror_writes
     where source = 'event' and table_name <> 'subscription_items'
     group by new_event_id having count(*) > 1 order by new_event_id`,
  );
  const total = await pool.query<{ writes: number }>(
    'select count(*)::int as writes from audit_mirror_writes',
  );
  const settledTwice = await pool.query<{ event_id: string; settled: number; requeued: number }>(
    `select event_id, count(*) filter (where settled)::int as settled,
            count(*) filter (where not settled)::int as requeued
     from audit_settlements group by event_id
     having count(*) filter (where settled) > 1 + count(*) filter (where not settled) order by event_id`,
  );
  return {
    appliedTwice: twice.rows.map((row) => ({ eventId: row.event_id, writes: row.writes })),
    backwards: await versionChanges(pool, 'new_created < old_created'),
    notNewer: await versionChanges(pool, `source = 'event' and new_created <= old_created`),
    settledTwice: settledTwice.rows.map((row) => ({
      eventId: row.event_id,
      settled: row.settled,
      requeued: row.requeued,
    })),
    writes: total.rows[0]?.writes ?? 0,
  };
}

/** The logged updates that match `condition` (SQL over the log's columns), in the order they were made. */
async function versionChanges(pool: pg.Pool, condition: string): Promise<VersionChange[]> {
  const { rows } = await pool.query<{
    table_name: string;
    id: string;
    old_created: string;
    new_created: string;
    old_event_id: string | null;
    new_event_id: string | null;
  }>(
    `select table_name, id, old_created, new_created, old_event_id, new_event_id from audit_mirror_writes
     where operation = 'UPDATE' and ${condition} order by seq`,
  );
  return rows.map((row) => ({
    table: row.table_name,
    id: row.id,
    from: Number(row.old_created),
    to: Number(row.new_created),
    eventId: row.new_event_id,
    replacedEventId: row.old_event_id,
  }));
}

const describeChange = (change: VersionChange): string =>
  `${change.table} ${change.id}: ${change.eventId ?? 'a fetch'} (${change.to}) ` +
  `over ${change.replacedEventId ?? 'a fetch'} (${change.from})`;

export type InboxFindings = {
  /** Events Stripe sent that the inbox does not hold (lost). */
  lost: string[];
  /** Inbox events Stripe never sent. */
  foreign: string[];
  dead: { id: string; error: string | null }[];
  pending: string[];
  /** Rows written by an event whose inbox outcome is not `applied`. */
  unexplainedRows: { table: string; id: string; eventId: string; outcome: string | null }[];
  outcomes: Record<string, number>;
  events: number;
};

/**
 * Compares the inbox with the events the emulator recorded for the platform, and checks that every row
 * written from an event names an event the inbox says was applied.
 */
export async function auditInbox(
  emulator: Emulator,
  pool: pg.Pool,
  options: { expectDelivered?: (eventId: string) => boolean } = {},
): Promise<InboxFindings> {
  const sent = emittedEventIds(emulator);
  const inbox = await pool.query<{
    id: string;
    status: string;
    outcome: string | null;
    last_error: string | null;
  }>('select id, status, outcome, last_error from stripe_events');
  const held = new Set(inbox.rows.map((row) => row.id));
  const sentSet = new Set(sent);
  const outcomes: Record<string, number> = {};
  for (const row of inbox.rows)
    outcomes[row.outcome ?? row.status] = (outcomes[row.outcome ?? row.status] ?? 0) + 1;
  const unexplained: InboxFindings['unexplainedRows'] = [];
  for (const table of MIRROR_TABLES.filter((name) => name !== 'subscription_items')) {
    const rows = await pool.query<{ id: string; event_id: string; outcome: string | null }>(
      `select m.id, m.last_event_id as event_id, e.outcome from ${table} m
       left join stripe_events e on e.id = m.last_event_id
       where m.source = 'event' and e.outcome is distinct from 'applied'`,
    );
    unexplained.push(
      ...rows.rows.map((row) => ({ table, id: row.id, eventId: row.event_id, outcome: row.outcome })),
    );
  }
  const expectDelivered = options.expectDelivered ?? (() => true);
  return {
    lost: sent.filter((id) => !held.has(id) && expectDelivered(id)),
    foreign: inbox.rows.filter((row) => !sentSet.has(row.id)).map((row) => row.id),
    dead: inbox.rows
      .filter((row) => row.status === 'dead')
      .map((row) => ({ id: row.id, error: row.last_error })),
    pending: inbox.rows.filter((row) => row.status === 'pending').map((row) => row.id),
    unexplainedRows: unexplained,
    outcomes,
    events: inbox.rows.length,
  };
}

/**
 * Fails unless every event Stripe sent (or, with `expectDelivered`, every one it was meant to deliver)
 * is in the inbox once and settled, none is dead, every event-written row names an applied event, no
 * event's payload was written twice, no row moved backwards, and every event written over a row was
 * newer than it, by its `created` and by the order Stripe emitted them. Each failure lists the
 * offenders. Returns the findings for more checks.
 */
export async function assertEachEventAppliedOnce(
  emulator: Emulator,
  pool: pg.Pool,
  options: { expectDelivered?: (eventId: string) => boolean } = {},
): Promise<InboxFindings & WriteLogFindings & { misordered: MisorderedWrite[] }> {
  const inbox = await auditInbox(emulator, pool, options);
  const log = await readWriteLog(pool);
  const misordered = await readMisorderedWrites(pool, emittedEventIds(emulator));
  assertNone(inbox.lost, 'events Stripe delivered are missing from the inbox', String);
  assertNone(inbox.foreign, 'the inbox holds events Stripe never sent', String);
  assertNone(inbox.dead, 'events were dead-lettered', (dead) => `${dead.id}: ${dead.error}`);
  assertNone(inbox.pending, 'events are still pending', String);
  assertNone(
    inbox.unexplainedRows,
    'rows name a last event that is not recorded as applied',
    (row) => `${row.table} ${row.id}: ${row.eventId} (${row.outcome})`,
  );
  assertNone(
    log.appliedTwice,
    'event payloads were written more than once',
    (twice) => `${twice.eventId}: ${twice.writes} writes`,
  );
  assertNone(log.backwards, 'rows moved backwards', describeChange);
  assertNone(
    log.notNewer,
    'events were written over a row of their own second or a newer one',
    describeChange,
  );
  assertNone(
    misordered,
    'events were written over rows a later-emitted event had written',
    describeMisordered,
  );
  assertNone(
    log.settledTwice,
    'events were processed more than once',
    (twice) => `${twice.eventId}: settled ${twice.settled} times, put back ${twice.requeued}`,
  );
  return { ...inbox, ...log, misordered };
}

/** The most offenders a failure lists. */
const LISTED = 20;

function assertNone<T>(found: readonly T[], problem: string, describe: (finding: T) => string): void {
  if (found.length === 0) return;
  const more = found.length > LISTED ? `\n… and ${found.length - LISTED} more` : '';
  assert.fail(`${problem} (${found.length}):\n${found.slice(0, LISTED).map(describe).join('\n')}${more}`);
}
