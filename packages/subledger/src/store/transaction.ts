import type pg from 'pg';

// A deadlock or serialization failure against a concurrent transaction is rare and safe to retry.
const RETRIABLE = new Set(['40P01', '40001']);

/** Runs `work` in one transaction on a pooled client, retrying (up to 3 attempts) when Postgres asks to. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      if (attempt >= 3 || !RETRIABLE.has((error as { code?: string }).code ?? '')) throw error;
    } finally {
      client.release();
    }
  }
}
