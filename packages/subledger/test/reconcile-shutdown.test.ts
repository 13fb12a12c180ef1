import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECONCILE_TASK } from '../src/sync/scheduled-reconcile.ts';
import { startStack } from './support/stack.ts';

// A shutdown while the scheduled reconcile runs: graphile-worker asks the job to stop (its abort signal)
// and waits for it. A job that ignored the signal was cut off when the process ended, and its queue
// stayed locked until graphile-worker's stale-lock reset, hours later: no reconcile ran anywhere.

test('stopping the workers during a scheduled reconcile aborts it between pages: the job is unlocked, to run again', {
  timeout: 120_000,
}, async () => {
  // One request a second: the reconcile of every kind outlasts the shutdown's 5 s of grace.
  const stack = await startStack({
    environment: { SUBLEDGER_STRIPE_RPS: '1', SUBLEDGER_RECONCILE_MINUTES: '1440' },
  });
  try {
    await stack.database.pool.query(`select graphile_worker.add_job($1, '{}'::json, queue_name := $1)`, [
      RECONCILE_TASK,
    ]);
    const job = async () =>
      (
        await stack.database.pool.query<{ locked: boolean; attempts: number; last_error: string | null }>(
          `select locked_at is not null as locked, attempts, last_error from graphile_worker.jobs
           where task_identifier = $1`,
          [RECONCILE_TASK],
        )
      ).rows[0];
    for (let waited = 0; !(await job())?.locked; waited += 50) {
      assert.ok(waited < 30_000, 'the reconcile job started');
      await sleep(50);
    }

    await stack.subledger.sync.stop();
    const left = await job();
    assert.ok(left, 'the job is kept, to be run again');
    assert.equal(left.locked, false, 'unlocked');
    assert.equal(left.attempts, 1);
    assert.match(left.last_error ?? '', /abort/i);
    const queue = await stack.database.pool.query(
      'select locked_at from graphile_worker._private_job_queues where queue_name = $1',
      [RECONCILE_TASK],
    );
    assert.deepEqual(queue.rows, [{ locked_at: null }], 'its queue is free for the next run');
  } finally {
    await stack.close();
  }
});
