import assert from 'node:assert/strict';
import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { MIRROR_TABLES, rowsOf } from './auditor.ts';

/**
 * How the events were applied, audited apart from the mirror's final state: `installWriteLog` puts a
 * trigger on every mirror table of the test database that records each committed write (old and new
 * version, event id), so tests can prove that no event was applied twice and no row ever moved
 * backwards, independently of the worker's own bookkeeping; `auditInbox` holds the inbox up against the
 * events Stripe sent.
 */

/**
 * Records every committed write to the mirror tables (a test-only trigger in the test database): which
 * row, its version before and after, and the event (or fetch) that wrote it. Rolled-back writes leave
 * no trace, as they leave no trace in the mirror.
 */
export async function installWriteLog(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table audit_mirror_writes (
      seq bigserial primary key, table_name text not null, id text not null, operation text not null,
      old_created bigint, new_created bigint not null, old_event_id text, new_event_id text, source text not null
    );
    create function audit_mirror_write() returns trigger language plpgsql as $$
    begin
      insert into audit_mirror_writes
        (table_name, id, operation, old_created, new_created, old_event_id, new_event_id, source)
      values (tg_table_name, new.id, tg_op,
        case when tg_op = 'UPDATE' then old.last_event_created end, new.last_event_created,
        case when tg_op = 'UPDATE' then old.last_event_id end, new.last_event_id, new.source);
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

export type WriteLogFindings = {
  /** Events whose payload was written more than once (into objects' rows; items follow their subscription). */
  appliedTwice: { eventId: string; writes: number }[];
  /** Updates that lowered a row's version: the mirror moved backwards. */
  backwards: { table: string; id: string; from: number; to: number; eventId: string | null }[];
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
  const backwards = await pool.query<{
    table_name: string;
    id: string;
    old_created: number;
    new_created: number;
    new_event_id: string | null;
  }>(
    `select table_name, id, old_created, new_created, new_event_id from audit_mirror_writes
     where operation = 'UPDATE' and new_created < old_created order by seq`,
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
    backwards: backwards.rows.map((row) => ({
      table: row.table_name,
      id: row.id,
      from: Number(row.old_created),
      to: Number(row.new_created),
      eventId: row.new_event_id,
    })),
    settledTwice: settledTwice.rows.map((row) => ({
      eventId: row.event_id,
      settled: row.settled,
      requeued: row.requeued,
    })),
    writes: total.rows[0]?.writes ?? 0,
  };
}

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
  const sent = rowsOf(emulator.partition(null, false), 'event').map((event) => event.id);
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
 * event's payload was written twice and no row moved backwards. Returns the findings for more checks.
 */
export async function assertEachEventAppliedOnce(
  emulator: Emulator,
  pool: pg.Pool,
  options: { expectDelivered?: (eventId: string) => boolean } = {},
): Promise<InboxFindings & WriteLogFindings> {
  const inbox = await auditInbox(emulator, pool, options);
  const log = await readWriteLog(pool);
  assert.deepEqual(inbox.lost, [], 'events Stripe delivered are missing from the inbox');
  assert.deepEqual(inbox.foreign, [], 'the inbox holds events Stripe never sent');
  assert.deepEqual(inbox.dead, [], 'events were dead-lettered');
  assert.deepEqual(inbox.pending, [], 'events are still pending');
  assert.deepEqual(inbox.unexplainedRows, [], 'rows name a last event that is not recorded as applied');
  assert.deepEqual(log.appliedTwice, [], 'event payloads were written more than once');
  assert.deepEqual(log.backwards, [], 'rows moved backwards');
  assert.deepEqual(log.settledTwice, [], 'events were processed more than once');
  return { ...inbox, ...log };
}
