import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect, type Database, migrate, startEmbeddedPostgres } from '../../src/store/index.ts';
import { migrateJobs } from '../../src/sync/index.ts';
import { createLogger } from '../../src/telemetry/index.ts';

export type TestDatabase = Database & { drop: () => Promise<void> };

/**
 * A fresh, migrated database for one test file: on the server `DATABASE_URL` names (CI also runs the
 * suite against Debian's PostgreSQL), else on a throwaway embedded cluster.
 */
export async function testDatabase(): Promise<TestDatabase> {
  const name = `subledger_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const external = process.env.DATABASE_URL;
  if (external) {
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(external);
    url.pathname = `/${name}`;
    return ready(connect(url.toString()), async () => {
      const cleanup = new pg.Client({ connectionString: external });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    });
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'subledger-test-'));
  // Run as root, the cluster belongs to the `postgres` user, which must be able to enter the folder.
  await chmod(dataDir, 0o755);
  const cluster = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    database: name,
    persistent: false,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  return ready(connect(cluster.url), async () => {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
}

async function ready(database: Database, cleanup: () => Promise<void>): Promise<TestDatabase> {
  await migrate(database);
  await migrateJobs(database.pool, createLogger('silent'));
  return {
    ...database,
    drop: async () => {
      await database.close();
      await cleanup();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
