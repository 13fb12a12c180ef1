import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { rowsOfEveryPartition } from './auditor-stripe.ts';

/**
 * How events reached the inbox, seen from the test database: every arrival, copies included, with what
 * the inbox already held for it; and the order of first arrivals against the order Stripe emitted in.
 */

/**
 * Records every arrival of an event at the inbox: a trigger before each insert into `stripe_events`
 * notes the status the inbox already held for that id. Copies are refused by the insert itself
 * (`on conflict do nothing`), so nothing else sees them. The lookup runs at the insert, in a snapshot
 * of its own (read committed), so `processed` proves the worker's commit came before this copy.
 *
 * The delivery log's attempt times cannot tell that: `processed_at` is when the worker's transaction
 * began, not when it committed. In the duplicate chaos run (seed 11, copies back to back), 32–64 copies
 * began after `processed_at` but only 4–10 of them met a processed event.
 */
export async function recordArrivals(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table audit_inbox_arrivals (seq bigserial primary key, event_id text not null, found text);
    create function audit_inbox_arrival() returns trigger language plpgsql as $$
    begin
      insert into audit_inbox_arrivals (event_id, found)
      values (new.id, (select status from stripe_events where id = new.id));
      return new;
    end $$;
    create trigger audit_inbox_arrival before insert on stripe_events for each row
      execute function audit_inbox_arrival();
  `);
}

/** Arrivals by what the inbox held: nothing yet, the event waiting to be applied, or already applied. */
export type Arrivals = { first: number; whilePending: number; afterProcessed: number };

export async function readArrivals(pool: pg.Pool): Promise<Arrivals> {
  const { rows } = await pool.query<{ found: string | null; arrivals: number }>(
    'select found, count(*)::int as arrivals from audit_inbox_arrivals group by found',
  );
  const count = (found: string | null) => rows.find((row) => row.found === found)?.arrivals ?? 0;
  return { first: count(null), whilePending: count('pending'), afterProcessed: count('processed') };
}

/**
 * Pairs of events about one object that the inbox received in the opposite order to Stripe's, among
 * pairs from different seconds: those whose order `created` tells, so that applying them as they came
 * would move the row backwards. The inbox's `seq` numbers first arrivals as they happened; the
 * emulator's event table keeps the order of emission.
 */
export async function crossSecondInversions(emulator: Emulator, pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string; seq: string; created: string; object: string }>(
    `select id, seq, created, object_type || ' ' || object_id as object from stripe_events
     where object_id is not null`,
  );
  const received = new Map(rows.map((row) => [row.id, row]));
  const byObject = new Map<string, { seq: number; created: number }[]>();
  for (const event of rowsOfEveryPartition(emulator, 'event')) {
    const row = received.get(event.id);
    if (!row) continue;
    const arrival = { seq: Number(row.seq), created: Number(row.created) };
    byObject.set(row.object, [...(byObject.get(row.object) ?? []), arrival]);
  }
  let inversions = 0;
  for (const arrivals of byObject.values())
    for (const [index, earlier] of arrivals.entries())
      for (const later of arrivals.slice(index + 1))
        if (earlier.created < later.created && earlier.seq > later.seq) inversions++;
  return inversions;
}
