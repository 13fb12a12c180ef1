import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectionStringOf, type StepOutcome, WakeLoop } from '../src/sync/wake-loop.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

/**
 * How the background loops spend their steps: a notice wakes one loop, a notice is never lost, and a
 * loop that kept up goes back to sleep instead of looking once more for nothing.
 */
let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const NOTHING: StepOutcome = { found: 0, behind: false };

/** A loop on its own channel whose steps are recorded; `next` decides what each step does. */
function recordedLoop(channel: string, loops: number, next: () => Promise<StepOutcome>) {
  const steps: number[] = [];
  const loop = new WakeLoop({
    connectionString: connectionStringOf(database.pool),
    channel,
    loops,
    idleMs: 60_000,
    step: async () => {
      steps.push(performance.now());
      return next();
    },
  });
  const notify = () => database.pool.query(`notify ${channel}`);
  return { loop, steps, notify };
}

test('a notice wakes one sleeping loop, not every loop', async () => {
  const { loop, steps, notify } = recordedLoop('subledger_test_one_wakes', 3, async () => NOTHING);
  await loop.start();
  try {
    await sleep(150);
    assert.equal(steps.length, 3, 'each loop looks once when it starts');
    await notify();
    await sleep(300);
    assert.equal(steps.length, 4, 'one notice, one look');
    await Promise.all([notify(), notify()]);
    await sleep(300);
    assert.equal(steps.length, 6, 'two notices, two looks');
  } finally {
    await loop.stop();
  }
});

test('a notice that comes during a step makes the loop look again at once, not after its idle wait', async () => {
  let slow = false;
  const { loop, steps, notify } = recordedLoop('subledger_test_remembered', 1, async () => {
    if (!slow) return NOTHING;
    slow = false;
    await sleep(300);
    return { found: 1, behind: false };
  });
  await loop.start();
  try {
    await sleep(100);
    slow = true;
    await notify();
    await sleep(100);
    await notify();
    await sleep(500);
    assert.equal(steps.length, 3, 'the step after the slow one, and no other');
    const afterSlow = (steps[2] as number) - (steps[1] as number);
    assert.ok(
      afterSlow < 400,
      `the remembered notice was looked at ${afterSlow} ms after the slow step began`,
    );
  } finally {
    await loop.stop();
  }
});

test('a step that found work and was not behind is not followed by a look for nothing', async () => {
  let work = 0;
  const { loop, steps, notify } = recordedLoop('subledger_test_kept_up', 1, async () =>
    work-- > 0 ? { found: 1, behind: false } : NOTHING,
  );
  await loop.start();
  try {
    await sleep(100);
    work = 1;
    await notify();
    await sleep(300);
    assert.equal(steps.length, 2, 'the first look, then the one the notice asked for');
  } finally {
    await loop.stop();
  }
});

test('a listening session the database drops is opened again, with what it held, and notices wake the loop', async () => {
  const channel = 'subledger_test_reopened';
  let sessions = 0;
  const steps: number[] = [];
  const loop = new WakeLoop({
    connectionString: connectionStringOf(database.pool),
    channel,
    loops: 1,
    idleMs: 60_000,
    onListening: async () => {
      sessions++;
    },
    step: async () => {
      steps.push(performance.now());
      return NOTHING;
    },
  });
  await loop.start();
  try {
    await sleep(100);
    await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where query = $1 and pid <> pg_backend_pid()`,
      [`listen ${channel}`],
    );
    for (let waited = 0; sessions < 2 && waited < 10_000; waited += 50) await sleep(50);
    assert.equal(sessions, 2, 'the session was opened again');
    await sleep(100);
    const before = steps.length;
    await database.pool.query(`notify ${channel}`);
    for (let waited = 0; steps.length === before && waited < 5_000; waited += 20) await sleep(20);
    assert.equal(steps.length, before + 1, 'a notice on the new session woke the loop');
  } finally {
    await loop.stop();
  }
});
