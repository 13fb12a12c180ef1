import { chmod } from 'node:fs/promises';
import pg from 'pg';
import { type EmbeddedCluster, startEmbeddedPostgres } from '../src/store/index.ts';
import { freePort } from '../test/support/database.ts';

/** One embedded PostgreSQL 18 cluster for every database of the run, with its default settings (fsync on). */
export async function startCluster(dir: string): Promise<EmbeddedCluster> {
  // Run as root, the cluster belongs to the `postgres` user, which must be able to enter the folder.
  await chmod(dir, 0o755);
  const cluster = await startEmbeddedPostgres({
    dataDir: dir,
    port: await freePort(),
    database: 'postgres',
    persistent: false,
  });
  await warmWal(cluster);
  return cluster;
}

/**
 * A new cluster has no WAL segments to recycle, so every 16 MB of WAL a committing backend first writes
 * and fsyncs a zero-filled segment: a stall of tens of milliseconds every few seconds at 500 events/s,
 * which a server that has been running a while never has (measured: ingest-only acknowledgement p99
 * 58 ms on a new cluster, 14 ms after this warm-up). Writing 400 MB of WAL and checkpointing leaves ~25
 * segments to recycle, as on a running server.
 */
async function warmWal(cluster: EmbeddedCluster): Promise<void> {
  await onCluster(cluster, async (client) => {
    await client.query(
      `create table wal_warmup as
       select g, repeat(md5(g::text), 30) as filler from generate_series(1, 400000) g`,
    );
    await client.query('drop table wal_warmup');
    await client.query('checkpoint');
  });
}

/**
 * Before each phase: flushes what the last phase left dirty and restarts the checkpoint clock, so that
 * no checkpoint (every 5 minutes by default) lands inside a phase of this run. Any database's URL on the
 * cluster will do: a checkpoint is the whole cluster's.
 */
export const checkpoint = (cluster: Pick<EmbeddedCluster, 'url'>) =>
  onCluster(cluster, async (client) => void (await client.query('checkpoint')));

/** A new, empty database in the cluster; its URL. */
export async function createDatabase(cluster: EmbeddedCluster, name: string): Promise<string> {
  await onCluster(cluster, async (client) => void (await client.query(`create database ${name}`)));
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

export function settingsOf(cluster: EmbeddedCluster): Promise<string> {
  return onCluster(cluster, async (client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings
       where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size')
       order by name`,
    );
    return rows.map((row) => `${row.name}=${row.setting}`).join(' ');
  });
}

async function onCluster<T>(
  cluster: Pick<EmbeddedCluster, 'url'>,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
