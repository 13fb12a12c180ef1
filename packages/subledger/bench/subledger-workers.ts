/**
 * The bench's entry for Subledger's workers' thread (`subledger start` runs `src/cli/workers-entry.ts`).
 * The thread lives through the whole phase, so its compiled code is as warm as the server's: told
 * `warm`, it runs the workers on the scratch database the server warms up on, until `warmed`; told
 * `go`, it runs them as `start` does on the measured database. Its probe sends what it observes to the
 * server's thread (`probes.ts`).
 */
import { workerData } from 'node:worker_threads';
import { runWorkersInThread, sharedCommitGate, type WorkerThreadData } from '../src/cli/worker-thread.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { createWorkers } from '../src/workers.ts';
import { observeWorkers } from './probes.ts';
import { controlChannel } from './workers-control.ts';

const data = workerData as WorkerThreadData & { warmupDatabaseUrl: string };
const { config, warmupDatabaseUrl } = data;
const control = controlChannel();
// The server's side may only signal once this side listens.
control.send('open');

await control.next('warm');
const warm = await createWorkers({
  config: { ...config, databaseUrl: warmupDatabaseUrl },
  databaseUrl: warmupDatabaseUrl,
  logger: createLogger(config.logLevel),
  ...sharedCommitGate(data),
});
const stopObserving = observeWorkers(warm.stripe);
await warm.start();
control.send('warm-started');
await control.next('warmed');
await warm.stop();
stopObserving();
(globalThis as { gc?: () => void }).gc?.();
control.send('cooled');

await control.next('go');
control.close();
await runWorkersInThread((workers) => observeWorkers(workers.stripe));
