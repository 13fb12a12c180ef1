import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { drainWebhooks, type RunningEmulator } from 'stripe-emulator';
import type { TestDatabase } from './database.ts';

/**
 * `subledger start` as a process of its own, to be killed with SIGKILL and started again: nothing it
 * held in memory survives, only what it committed to Postgres and what Stripe delivers again.
 */

const BIN = fileURLToPath(new URL('../../bin/subledger.js', import.meta.url));

export type Child = { process: ChildProcess; output: string[] };

/** `subledger start --port <port>` against the emulator and the test database; resolves once it listens. */
export async function startSubledger(port: number, environment: Record<string, string>): Promise<Child> {
  // The test already runs on the project's Node (through `npx node`), so the child uses the same binary.
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port)], {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('Subledger is listening')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`subledger start exited (${code ?? signal}) before listening:\n${output.join('')}`)),
    );
  });
  return { process: child, output };
}

export async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGKILL');
  await exited;
}

export async function holds(database: TestDatabase, query: string): Promise<boolean> {
  return (await database.pool.query<{ yes: boolean }>(`select (${query}) as yes`)).rows[0]?.yes === true;
}

/** Waits until `ready` holds, checking every few milliseconds. */
export async function until(ready: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Every delivery done and every inbox event, refetch and job settled, twice in a row. */
export async function settle(emulator: RunningEmulator, database: TestDatabase): Promise<void> {
  let quiet = 0;
  const unsettled = `select (select count(*) from stripe_events where status = 'pending')::int as pending,
      (select count(*) from sync_refetches)::int as refetches,
      (select count(*) from sync_refetches where leased_by is not null)::int as leased_refetches,
      (select count(*) from graphile_worker.jobs)::int as jobs`;
  try {
    await until(
      async () => {
        await drainWebhooks(emulator.emulator, 20_000);
        const counts = Object.values((await database.pool.query(unsettled)).rows[0] ?? {});
        quiet = counts.every((count) => count === 0) ? quiet + 1 : 0;
        return quiet >= 2;
      },
      'the inbox, refetches and jobs are settled',
      20_000,
    );
  } catch (error) {
    const state = (await database.pool.query(unsettled)).rows[0];
    throw new Error(`${(error as Error).message}: still ${JSON.stringify(state)}`);
  }
}
