import type pg from 'pg';

/**
 * How the mirror came to hold what it holds, for the objects an audit found wrong: each object's inbox
 * events in arrival order, its queued refetch, and (when the test installed the write log) every
 * committed write to its row. A failure that comes once in many runs can then be read from its
 * message instead of being reproduced.
 */
export async function historyOf(pool: pg.Pool, ids: readonly string[]): Promise<string> {
  if (ids.length === 0) return '';
  const events = await pool.query<Record<string, unknown>>(
    `select object_id, seq, id, type, created, status, outcome, attempts, last_error,
       to_char(received_at, 'HH24:MI:SS.MS') as received, to_char(processed_at, 'HH24:MI:SS.MS') as processed
     from stripe_events where object_id = any($1::text[]) order by object_id, seq`,
    [ids],
  );
  const refetches = await pool.query<Record<string, unknown>>(
    `select object_id, known_created, reason, attempts, leased_by, last_error from sync_refetches
     where object_id = any($1::text[])`,
    [ids],
  );
  const logged = await pool.query<{ present: boolean }>(
    `select to_regclass('audit_mirror_writes') is not null as present`,
  );
  const writes = logged.rows[0]?.present
    ? await pool.query<Record<string, unknown>>(
        `select id as object_id, seq, table_name, operation, old_created, new_created, old_event_id,
           new_event_id, source
         from audit_mirror_writes where id = any($1::text[]) order by seq`,
        [ids],
      )
    : { rows: [] };
  return ids
    .map((id) => {
      const of = (rows: Record<string, unknown>[], label: string) =>
        rows
          .filter((row) => row.object_id === id)
          .map(({ object_id: _, ...row }) => `  ${label} ${JSON.stringify(row)}`);
      return [
        `${id}:`,
        ...of(events.rows, 'event'),
        ...of(refetches.rows, 'refetch'),
        ...of(writes.rows, 'write'),
      ].join('\n');
    })
    .join('\n');
}
