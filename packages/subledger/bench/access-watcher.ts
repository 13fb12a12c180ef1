/**
 * Process B of the staleness measure (`node access-watcher.ts <job.json>`, with an IPC channel): Subledger
 * with the watched accounts warm in its cache. Told to `watch` an account, it reads `api_calls` (a
 * cache hit), says `armed`, then checks again on every turn of its event loop until `used` changes, and
 * says when on the clock both processes share (`performance.timeOrigin + performance.now()`). Answers
 * `ping` with that clock, so that the parent can check the two agree.
 */
import { readFileSync } from 'node:fs';
import type { Subledger } from '../src/subledger.ts';
import { openSubledger, sharedClock, warmAccounts } from './access-instance.ts';

export type WatcherJob = { databaseUrl: string; accounts: number };
export type ToWatcher = { type: 'ping' } | { type: 'watch'; accountId: string } | { type: 'stop' };
export type FromWatcher =
  | { type: 'ready' }
  | { type: 'pong'; at: number }
  | { type: 'armed'; used: number | null }
  | { type: 'seen'; at: number; used: number | null; polls: number };

const send = (message: FromWatcher) => process.send?.(message);

/**
 * Polls on `setImmediate`, so that every poll lets the change notice in (a loop of awaited checks
 * alone would never yield to I/O), at a resolution of microseconds rather than a timer's millisecond.
 */
async function watch(subledger: Subledger, accountId: string): Promise<void> {
  const check = () => subledger.access.check(accountId, 'api_calls');
  const { used } = await check();
  send({ type: 'armed', used });
  let polls = 0;
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    polls++;
    const answer = await check();
    if (answer.used !== used) return void send({ type: 'seen', at: sharedClock(), used: answer.used, polls });
  }
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as WatcherJob;
const subledger = await openSubledger(job.databaseUrl);
await warmAccounts(subledger, job.accounts);
process.on('message', async (message: ToWatcher) => {
  if (message.type === 'ping') send({ type: 'pong', at: sharedClock() });
  else if (message.type === 'watch') await watch(subledger, message.accountId);
  else {
    await subledger.close();
    process.disconnect();
  }
});
send({ type: 'ready' });
