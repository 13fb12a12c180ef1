import assert from 'node:assert/strict';
import type pg from 'pg';

/**
 * What the workload must have exercised for a chaos run to prove anything: the paths an injected bug
 * would hide in are taken, not merely available. Each check reads the inbox and the mirror.
 */

const DELETIONS = [
  { type: 'customer.deleted', table: 'customers' },
  { type: 'product.deleted', table: 'products' },
  { type: 'invoice.deleted', table: 'invoices' },
];

/** Each kind of deletion event was applied from its payload, leaving an event-written tombstone. */
export async function assertDeletionsApplied(pool: pg.Pool): Promise<void> {
  for (const { type, table } of DELETIONS) {
    const { rows } = await pool.query<{
      outcome: string | null;
      deleted: boolean | null;
      source: string | null;
    }>(
      `select e.outcome, m.deleted, m.source from stripe_events e
       left join ${table} m on m.last_event_id = e.id
       where e.type = $1`,
      [type],
    );
    assert.ok(
      rows.some((row) => row.outcome === 'applied' && row.deleted === true && row.source === 'event'),
      `no ${type} was applied as a tombstone: ${JSON.stringify(rows)}`,
    );
  }
}
