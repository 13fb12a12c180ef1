import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as applyMigrations } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { prepareRepeatedStatements } from './prepared.ts';
import * as schema from './schema/index.ts';

export type Db = NodePgDatabase<typeof schema>;

export type Database = {
  pool: pg.Pool;
  db: Db;
  url: string;
  close: () => Promise<void>;
};

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

// Every bigint this schema stores (seconds, cents, sequence numbers) fits a JS number exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * Asked before a connection sends a statement that opens a transaction or runs outside one: null to
 * send it at once, or a promise to send it when that settles.
 */
export type StatementHold = () => Promise<void> | null;

export type ConnectOptions = {
  max?: number;
  /** How long taking a connection may wait; CONNECTION_TIMEOUT_MS. */
  connectionTimeoutMs?: number;
  /** Runs after the pool ends (e.g. stopping a cluster). */
  onClose?: () => Promise<void>;
  holdStatements?: StatementHold;
};

/**
 * Taking a connection from the pool fails after this long instead of waiting for ever: for a free one,
 * when every connection is held by a statement that a dead network path never answers; for a new one,
 * when its address drops packets (the kernel gives up on a connect after about two minutes, and never on a
 * handshake once TCP is up). A connection is made in milliseconds, and one is normally free as fast.
 */
export const CONNECTION_TIMEOUT_MS = 10_000;

/**
 * TCP keepalive probes on a connection idle this long. A NAT or load balancer forgets a connection silent
 * for a few minutes (AWS's NAT gateway after 350 s, Azure's load balancer after 4) and drops its traffic
 * after that without a word; the probes keep it remembered, and end a connection whose peer is gone (in
 * the kernel's own time, some minutes).
 */
export const KEEPALIVE_IDLE_MS = 30_000;

/**
 * A pool on `url`, with Drizzle over it. Its bounds hold for every caller: connecting, and keepalive.
 * Statements get none here. node-postgres's `query_timeout` fails a statement but leaves it running on its
 * connection, which is safe to lend again only once released with that error: `pool.query` does so, but a
 * client taken with `pool.connect()` (every transaction, migrations, the workers) is released without it,
 * and its next statement (the rollback first) would queue behind the dead one for ever. And some statements
 * are long by right: a migration behind its advisory lock, a backfill's page. The inbox bounds its own
 * statements (see `INBOX_COMMIT_TIMEOUT_MS`), whose waiting holds up every webhook.
 */
export function connect(url: string, options: ConnectOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 20,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
  });
  const { holdStatements } = options;
  // An idle client losing its server (a restart, a killed backend) must not crash the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepareRepeatedStatements(client);
    if (holdStatements) holdOutsideTransactions(client, holdStatements);
  });
  return {
    pool,
    db: drizzle(pool, { schema }),
    url,
    close: async () => {
      await pool.end();
      await options.onClose?.();
    },
  };
}

/** A statement that opens a transaction, or one that ends it (a rollback to a savepoint ends nothing). */
const OPENS_TRANSACTION = /^\s*(begin|start\s+transaction)\b/i;
const ENDS_TRANSACTION = /^\s*(commit|end|abort|rollback)\b(?!\s+(to|prepared)\b)/i;

/**
 * Makes the client ask `hold` before sending a statement that opens a transaction or runs outside one.
 * A transaction once begun runs to its end unheld: holding each of its statements multiplied the hold
 * by their number, and kept its row locks that much longer. Statements keep the order they were given
 * in: one given while an earlier one is held waits for it to be sent. A submittable (a cursor, a
 * stream) is returned at once by design, so it is never held. Called with a callback (as the pool's own
 * `query` does), a held statement returns nothing and reports any error to the callback, as `pg` does.
 */
function holdOutsideTransactions(client: pg.PoolClient, hold: StatementHold): void {
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  let queue: Promise<void> | null = null;
  let inTransaction = false;
  const held = (...args: unknown[]) => {
    if (typeof (args[0] as { submit?: unknown } | null)?.submit === 'function') return send(...args);
    const asks = !inTransaction;
    const text = statementText(args[0]);
    if (OPENS_TRANSACTION.test(text)) inTransaction = true;
    else if (ENDS_TRANSACTION.test(text)) inTransaction = false;
    const holding = asks ? (queue ? queue.then(hold) : hold()) : queue;
    if (!holding) return send(...args);
    let result: unknown;
    const sent = holding.then(() => {
      result = send(...args);
    });
    const clear = () => {
      if (queue === sent) queue = null;
    };
    queue = sent;
    sent.then(clear, clear);
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      sent.catch((error: unknown) => callback(error));
      return undefined;
    }
    return sent.then(() => result);
  };
  client.query = held as typeof client.query;
}

/** The SQL of a statement given as text or as a query config. */
const statementText = (statement: unknown): string =>
  typeof statement === 'string' ? statement : String((statement as { text?: unknown } | null)?.text ?? '');

/**
 * Applies the numbered migrations in `migrations/`. Holds an advisory lock meanwhile, so several
 * processes starting together on one database migrate it once.
 */
export async function migrate(database: Database): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('subledger.migrate'))`);
    await applyMigrations(drizzle(client, { schema }), { migrationsFolder: MIGRATIONS });
  } finally {
    await client.query(`select pg_advisory_unlock(hashtext('subledger.migrate'))`).catch(() => {});
    client.release();
  }
}
