import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/cli/node-flags.ts';
import { runChild } from './children.ts';
import { checkpoint } from './cluster.ts';
import { type DiskStalls, watchDiskStalls } from './disk-stalls.ts';
import type { EmulatorProcess } from './emulator.ts';
import type { Stream, StreamEvent } from './event-stream.ts';
import type { LoadJob } from './load.ts';
import type { LoadResult, Pace } from './senders.ts';
import type { Summary } from './stats.ts';

export type PhaseSetup = {
  databaseUrl: string;
  /** An empty database the server warms up on before the measured run. */
  warmupDatabaseUrl: string;
  emulator: EmulatorProcess;
  stream: Stream;
  streamFile: string;
  secret: string;
  dir: string;
  /**
   * Which deliveries of the stream to send, at what pace, and how: over HTTP from the load process, or
   * to the web-standard handler called in this process (as the peer is called).
   */
  load: { from: number; count: number; pace: Pace; transport: 'http' | 'in-process' };
  /**
   * Start the workers only once every delivery is acknowledged, so they drain a full inbox with the
   * machine to themselves: processing throughput apart from ingest.
   */
  workersAfterLoad?: boolean;
  environment?: Record<string, string>;
};

export type PhaseResult = {
  load: LoadResult;
  distinctSent: number;
  /** Sent events the inbox does not hold. */
  notStored: string[];
  /** Of those, the ones some delivery of which was acknowledged (2xx): lost, where Stripe would not retry. */
  lost: string[];
  /** Epoch ms when every sent event was committed and no refetch or job was left. */
  settledAt: number;
  /** Epoch ms the workers started. */
  workersStartedAt: number;
  visibleMs: { all: Summary; fromPayload: Summary; refetched: Summary };
  ackServerMs: Summary;
  inboxWaitMs: Summary;
  inboxCommitMs: Summary;
  eventsPerCommit: Summary;
  outcomes: Record<string, number>;
  statuses: Record<string, number>;
  storedEvents: number;
  notOneAttempt: number;
  repeatedCommits: number;
  refetchRequests: Record<string, number>;
  refetchRequestKinds: Record<string, number>;
  stripeRequests: Record<string, number>;
  mirrorRows: Record<string, number>;
  /**
   * How long the machine's tasks were all stalled on I/O, from the end of the warm-up to the result (see
   * `disk-stalls.ts`); null where the kernel does not say.
   */
  diskStalls: DiskStalls | null;
};

/** What the server process measures: everything but what this process adds. */
export type ServerResult = Omit<PhaseResult, 'diskStalls' | 'lost'>;

/** What the server process is told to run. */
export type ServerJob = {
  databaseUrl: string;
  warmupDatabaseUrl: string;
  stripeKey: string;
  stripeUrl: string;
  secret: string;
  streamFile: string;
  baseSeconds: number;
  /** The ids of the events sent, once each. */
  sentEventIds: string[];
  load: PhaseSetup['load'];
  workersAfterLoad: boolean;
  environment: Record<string, string>;
};

export type ServerMessage =
  | { type: 'warming'; url: string }
  | { type: 'listening'; url: string }
  | { type: 'result'; result: ServerResult };
export type ToServer = { type: 'warmed' } | { type: 'loaded'; load: LoadResult };

/** The warm-up: the stream's first deliveries at 500/s, 5 seconds. */
const WARMUP: Pick<LoadJob, 'from' | 'count' | 'pace'> = {
  from: 0,
  count: 2_500,
  pace: { mode: 'rate', perSecond: 500 },
};

/**
 * One measured run of Subledger on a fresh database: Subledger in its own process
 * (`subledger-server.ts`), the load generator in another (`load.ts`), this process only between them.
 */
export async function runSubledgerPhase(setup: PhaseSetup): Promise<PhaseResult> {
  const sent = setup.stream.deliveries
    .slice(setup.load.from, setup.load.from + setup.load.count)
    .map((index) => (setup.stream.events[index] as StreamEvent).id);
  const job: ServerJob = {
    databaseUrl: setup.databaseUrl,
    warmupDatabaseUrl: setup.warmupDatabaseUrl,
    stripeKey: setup.emulator.key,
    stripeUrl: setup.emulator.url,
    secret: setup.secret,
    streamFile: setup.streamFile,
    baseSeconds: Math.floor(Date.now() / 1000),
    sentEventIds: [...new Set(sent)],
    load: setup.load,
    workersAfterLoad: setup.workersAfterLoad ?? false,
    environment: setup.environment ?? {},
  };
  const server = await startServer(job, setup.dir);
  const send = (url: string, load: Pick<LoadJob, 'from' | 'count' | 'pace'>) =>
    runChild<LoadJob, LoadResult>(
      './load.ts',
      { url, secret: job.secret, streamFile: job.streamFile, baseSeconds: job.baseSeconds, ...load },
      setup.dir,
    );
  await send(await server.warming, WARMUP);
  server.tell({ type: 'warmed' });
  const url = await server.listening;
  // What the warm-up left dirty is written now, not by the background writer during the measured load.
  await checkpoint({ url: setup.databaseUrl });
  const diskStalls = watchDiskStalls();
  if (setup.load.transport === 'http') server.tell({ type: 'loaded', load: await send(url, setup.load) });
  const result = await server.result;
  return { ...result, lost: lostOf(result, sent), diskStalls: diskStalls() };
}

/** The events not stored of which some delivery (`sent`, by position) was acknowledged. */
function lostOf(result: ServerResult, sent: string[]): string[] {
  const unanswered = new Set(result.load.unanswered);
  const acknowledged = new Set(sent.filter((_, position) => !unanswered.has(position)));
  return result.notStored.filter((id) => acknowledged.has(id));
}

async function startServer(job: ServerJob, dir: string) {
  const jobFile = path.join(dir, `subledger-server-${Date.now()}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const child = fork(fileURLToPath(new URL('./subledger-server.ts', import.meta.url)), [jobFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // The settings `subledger start` runs with (its bin's `#!` line).
    execArgv: [...process.execArgv, ...NODE_FLAGS, '--expose-gc'],
  });
  const warming = Promise.withResolvers<string>();
  const listening = Promise.withResolvers<string>();
  const result = Promise.withResolvers<ServerResult>();
  child.on('message', (message: ServerMessage) => {
    if (message.type === 'warming') warming.resolve(message.url);
    else if (message.type === 'listening') listening.resolve(message.url);
    else result.resolve(message.result);
  });
  child.once('exit', (code) => {
    const failure = new Error(`subledger-server.ts exited with ${code} before its result`);
    for (const waiting of [warming, listening, result]) waiting.reject(failure);
  });
  return {
    warming: warming.promise,
    listening: listening.promise,
    result: result.promise,
    tell: (message: ToServer) => child.send(message),
  };
}
