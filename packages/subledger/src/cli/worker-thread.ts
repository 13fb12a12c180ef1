import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from '../config/index.ts';
import { CommitGate } from '../sync/index.ts';
import { createLogger, type MetricsSnapshot } from '../telemetry/index.ts';
import { createWorkers, type Workers } from '../workers.ts';
import { lowerThreadPriority } from './thread-priority.ts';

/**
 * What the thread is started with: the server's config, the database it migrated and, when the server
 * counts its inbox commits, the memory they are counted in (a `CommitGate`'s buffer).
 */
export type WorkerThreadData = { config: Config; databaseUrl: string; commitGateBuffer?: SharedArrayBuffer };

type ToThread = { type: 'metrics'; id: number } | { type: 'stop' };
type FromThread = { type: 'started' } | { type: 'metrics'; id: number; snapshot: MetricsSnapshot };

const ENTRY = new URL('./workers-entry.ts', import.meta.url);
/** A thread that has not ended this long after being asked to stop is ended by force. */
const STOP_TIMEOUT_MS = 30_000;
/**
 * How much nicer than the server's thread the workers' thread runs. At 500 webhooks/s on two cores,
 * the acknowledgements' p99 measured 9.2–15.9 ms with both threads equal and 7.1–10.6 ms with this, in
 * five of six rounds each (the sixth of each hit a stall of a commit, 0.3 and 1.8 s), while the workers
 * kept up as before; flooded with 64 connections, they applied as fast (2,508–2,577 against 2,057–2,537
 * events/s).
 */
export const WORKERS_NICENESS_STEPS = 10;

export type WorkerThreadOptions = Omit<WorkerThreadData, 'commitGateBuffer'> & {
  /** The server's inbox commits, which the workers' statements yield to. */
  commitGate?: CommitGate;
  /** Called once if the thread fails or ends by itself once started: the process has no workers left. */
  onFailure: (error: Error) => void;
  /** The module the thread runs (default: `workers-entry.ts`); it calls `runWorkersInThread`. */
  entry?: URL;
  /** More data for another entry, beside the config and database URL. */
  extraData?: Record<string, unknown>;
};

export type WorkerThread = Awaited<ReturnType<typeof startWorkerThread>>;

/**
 * Starts the background work (`createWorkers`) in a worker thread, with an event loop of its own, and
 * resolves once it runs. Rejects with the thread's error when it cannot start (a database refusing it).
 */
export async function startWorkerThread(options: WorkerThreadOptions) {
  const { config, databaseUrl, extraData, commitGate } = options;
  const entry = options.entry ?? ENTRY;
  // Asynchronous on purpose: libuv's threadpool is started by the first thread that needs it, and its
  // threads would inherit the niceness of the workers' thread (see `lowerThreadPriority`).
  await access(fileURLToPath(entry));
  const data: WorkerThreadData = {
    config,
    databaseUrl,
    ...(commitGate ? { commitGateBuffer: commitGate.buffer } : {}),
  };
  const thread = new Worker(entry, { workerData: { ...extraData, ...data } });
  const answers = new Map<number, (snapshot: MetricsSnapshot) => void>();
  let nextId = 0;
  let stopping = false;
  let exited = false;
  // Not `once`: that rejects on the thread's 'error', and an ended thread is all `stop` waits for.
  const ended = new Promise<void>((resolve) => thread.once('exit', () => resolve())).then(() => {
    exited = true;
    for (const answer of answers.values()) answer([]);
    answers.clear();
  });
  thread.on('message', (message: FromThread) => {
    if (message.type !== 'metrics') return;
    answers.get(message.id)?.(message.snapshot);
    answers.delete(message.id);
  });
  await waitStarted(thread);
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    options.onFailure(error);
  };
  thread.on('error', fail);
  thread.on('exit', (code) => {
    if (!stopping) fail(new Error(`the workers' thread ended by itself (exit code ${code})`));
  });
  return {
    /** The thread's metrics, to be summed into the server's; none once it has ended. */
    metrics(): Promise<MetricsSnapshot> {
      if (exited) return Promise.resolve([]);
      const id = nextId++;
      const answered = new Promise<MetricsSnapshot>((resolve) => answers.set(id, resolve));
      thread.postMessage({ type: 'metrics', id } satisfies ToThread);
      return answered;
    },
    /** Lets the work in flight finish, then ends the thread. */
    async stop(): Promise<void> {
      if (stopping) return ended;
      stopping = true;
      if (exited) return;
      thread.postMessage({ type: 'stop' } satisfies ToThread);
      const timer = setTimeout(() => void thread.terminate(), STOP_TIMEOUT_MS);
      await ended;
      clearTimeout(timer);
    },
  };
}

function waitStarted(thread: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromThread) => {
      if (message.type !== 'started') return;
      settle();
      resolve();
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    const onExit = (code: number) => {
      settle();
      reject(new Error(`the workers' thread ended before starting (exit code ${code})`));
    };
    const settle = () => {
      thread.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    thread.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/** The server's `CommitGate`, seen from the workers' thread, as `createWorkers` options; none if not shared. */
export function sharedCommitGate({ commitGateBuffer }: WorkerThreadData): { commitGate?: CommitGate } {
  return commitGateBuffer ? { commitGate: new CommitGate(commitGateBuffer) } : {};
}

/**
 * The thread's side: runs the workers on the data it was started with, answers the server's requests
 * for metrics, and stops when asked. `beforeStart` sees the workers before their first batch, so that
 * an observer misses none of their work.
 */
export async function runWorkersInThread(beforeStart?: (workers: Workers) => void): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runWorkersInThread runs in a worker thread');
  const { config, databaseUrl } = workerData as WorkerThreadData;
  const logger = createLogger(config.logLevel).child({ thread: 'workers' });
  const lowered = lowerThreadPriority(WORKERS_NICENESS_STEPS);
  if (lowered) logger.debug(lowered, "the workers' thread yields to the server's");
  else logger.debug("the workers' thread runs at the server's priority: threads cannot be reniced here");
  const workers = await createWorkers({
    config,
    databaseUrl,
    logger,
    ...sharedCommitGate(workerData as WorkerThreadData),
  });
  beforeStart?.(workers);
  await workers.start();
  port.on('message', (message: ToThread) => {
    if (message.type === 'metrics')
      void workers.metrics
        .snapshot()
        .then((snapshot) =>
          port.postMessage({ type: 'metrics', id: message.id, snapshot } satisfies FromThread),
        );
    else void workers.stop().then(() => port.close());
  });
  port.postMessage({ type: 'started' } satisfies FromThread);
}
