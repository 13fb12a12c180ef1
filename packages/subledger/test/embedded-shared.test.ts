import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type EmbeddedCluster, isServing, startEmbeddedPostgres } from '../src/store/embedded.ts';
import { startSharedEmbeddedPostgres } from '../src/store/embedded-shared.ts';
import { freePort } from './support/database.ts';

// Processes sharing the embedded cluster's directory: the one that started it stops it on closing, and
// those that joined it start it again. Each "process" here is an instance in this one; the cluster's
// postmaster is a child of whichever started it, as across processes.

const dataDirs: string[] = [];
after(() => Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A cluster directory of the test's own; whatever still runs in it is stopped when the test ends. */
async function optionsOn(t: TestContext) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'subledger-shared-'));
  dataDirs.push(dataDir);
  // Run as root, the cluster belongs to the `postgres` user, which must be able to enter the folder.
  await chmod(dataDir, 0o755);
  const clusters: EmbeddedCluster[] = [];
  t.after(() => Promise.all(clusters.map((cluster) => cluster.stop())));
  const options = { dataDir, port: await freePort(), database: 'subledger' };
  const stoppedAfter = (cluster: EmbeddedCluster) => {
    clusters.push(cluster);
    return cluster;
  };
  return { options, stoppedAfter };
}

/** Waits (10 s at most) until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    assert.ok(Date.now() < deadline, `still waiting: ${what}`);
    await sleep(50);
  }
}

/** The rows of `text`, asked until the pool answers (30 s at most). */
async function untilAnswered(pool: pg.Pool, text: string): Promise<unknown[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return (await pool.query(text)).rows;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

const poolOn = (url: string) => {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return pool;
};

test('those that joined start the cluster again, once, when the one that started it stops it; the data stays', async (t) => {
  const { options, stoppedAfter } = await optionsOn(t);
  const first = stoppedAfter(await startEmbeddedPostgres(options));
  assert.equal(first.owned, true);
  const told: string[][] = [[], []];
  const joined = await Promise.all(
    told.map(async (lines) =>
      stoppedAfter(
        await startSharedEmbeddedPostgres({ ...options, onTakenOver: (line) => lines.push(line) }),
      ),
    ),
  );
  assert.deepEqual(
    joined.map((cluster) => cluster.owned),
    [false, false],
  );
  const pools = joined.map((cluster) => poolOn(cluster.url));
  await pools[0]?.query('create table kept (id int); insert into kept values (1)');

  await first.stop();
  for (const pool of pools) assert.deepEqual(await untilAnswered(pool, 'select id from kept'), [{ id: 1 }]);
  // The server answers as soon as it is ready, a moment before the process that started it hears so
  // and takes it as its own; each says what it did only then.
  await until(() => told.every((lines) => lines.length > 0), 'each told what it did');
  assert.deepEqual(
    joined.map((cluster) => cluster.owned).sort(),
    [false, true],
    'one started it again, the other joined that one',
  );
  assert.deepEqual(told.flat().sort(), [
    "embedded PostgreSQL dropped this process's connections; it serves (another process started it again), joined it",
    'embedded PostgreSQL was stopped by the process that started it; started it again here',
  ]);

  await Promise.all(pools.map((pool) => pool.end()));
  // The one that joined closes first, then the one that now owns it: it stops, nobody restarts it.
  const [owner, joiner] = joined[0]?.owned ? joined : [...joined].reverse();
  await joiner?.stop();
  await owner?.stop();
  await sleep(500);
  assert.equal(await isServing(first.url), false, 'stopped by the last one out');
});

test('one that joined and closes does not start the cluster again when it is stopped later', async (t) => {
  const { options, stoppedAfter } = await optionsOn(t);
  const first = stoppedAfter(await startEmbeddedPostgres(options));
  const told: string[] = [];
  const joined = stoppedAfter(
    await startSharedEmbeddedPostgres({ ...options, onTakenOver: (line) => told.push(line) }),
  );
  await joined.stop();
  assert.equal(await isServing(first.url), true, 'a cluster it joined is left running');
  await first.stop();
  await sleep(1000);
  assert.equal(await isServing(first.url), false);
  assert.deepEqual(told, []);
});

test('the one that started the cluster starts it again when its server is killed, and still stops it on closing', async (t) => {
  const { options, stoppedAfter } = await optionsOn(t);
  const told: string[] = [];
  const owner = stoppedAfter(
    await startSharedEmbeddedPostgres({ ...options, onTakenOver: (line) => told.push(line) }),
  );
  assert.equal(owner.owned, true);
  const pool = poolOn(owner.url);
  await pool.query('create table kept (id int); insert into kept values (1)');

  process.kill(await postmasterPid(options.dataDir), 'SIGKILL');
  assert.deepEqual(await untilAnswered(pool, 'select id from kept'), [{ id: 1 }]);
  await until(() => told.length > 0, 'told what it did');
  assert.deepEqual(told, [
    'the embedded PostgreSQL server this process started exited; started it again here',
  ]);
  assert.equal(owner.owned, true);

  await pool.end();
  await owner.stop();
  assert.equal(await isServing(owner.url), false, 'the server it started again is stopped on closing');
});

test('a server shut down from outside (exit 0: Ctrl-C reaches it too) is not started again', async (t) => {
  const { options, stoppedAfter } = await optionsOn(t);
  const told: string[] = [];
  const owner = stoppedAfter(
    await startSharedEmbeddedPostgres({ ...options, onTakenOver: (line) => told.push(line) }),
  );
  process.kill(await postmasterPid(options.dataDir), 'SIGINT');
  await until(() => told.length > 0, 'told what happened');
  assert.deepEqual(told, [
    'the embedded PostgreSQL server this process started was shut down from outside (Ctrl-C reaches it too, or pg_ctl stop); not started again',
  ]);
  await sleep(1000);
  assert.equal(await isServing(owner.url), false, 'left down');
  await owner.stop();
});

test('a server that died is not waited for: stopping it returns at once', async (t) => {
  const { options } = await optionsOn(t);
  const cluster = await startEmbeddedPostgres(options);
  process.kill(await postmasterPid(options.dataDir), 'SIGKILL');
  await cluster.exited;
  const stopped = await Promise.race([cluster.stop().then(() => true), sleep(5000, false, { ref: false })]);
  assert.equal(stopped, true, 'stop() returned');
});

async function postmasterPid(dataDir: string): Promise<number> {
  const pidFile = await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8');
  return Number(pidFile.split('\n')[0]);
}

test("another directory's embedded cluster on the port is not joined: a one-line error names the variable", async (t) => {
  const { options, stoppedAfter } = await optionsOn(t);
  stoppedAfter(await startEmbeddedPostgres(options));
  const elsewhere = await mkdtemp(path.join(tmpdir(), 'subledger-shared-'));
  dataDirs.push(elsewhere);
  await assert.rejects(startEmbeddedPostgres({ ...options, dataDir: elsewhere }), {
    message: `port ${options.port} is served by another embedded PostgreSQL (data in ${path.join(options.dataDir, 'postgres')}), not the one in ${path.join(elsewhere, 'postgres')}: set SUBLEDGER_EMBEDDED_PG_PORT to a free port`,
  });
});
