import type { Runner } from 'graphile-worker';
import type Stripe from 'stripe';
import type { Config } from '../config/index.ts';
import { type Database, PLATFORM } from '../store/index.ts';
import { API_VERSION } from '../stripe/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import type { CommitGate } from './commit-gate.ts';
import { Inbox } from './inbox.ts';
import { startJobs } from './jobs.ts';
import { createLimiter } from './limiter.ts';
import { MAX_ATTEMPTS } from './ordering.ts';
import { lastingFailureOf, type RefetchDependencies, refetchNow } from './refetch.ts';
import { Refetcher } from './refetcher.ts';
import { scheduledReconcile } from './scheduled-reconcile.ts';
import { selfHealing } from './self-healing.ts';
import {
  createWebhookAcceptor,
  createWebhookHandler,
  type WebhookFailure,
  type WebhookOptions,
} from './webhooks.ts';
import { type BatchReport, InboxWorker } from './worker.ts';

export type SyncEngineOptions = {
  database: Database;
  config: Config;
  /**
   * The Stripe client, or null when none is configured: objects to read are then settled `unfetchable`,
   * their events kept in the inbox (with that outcome) for `subledger replay --unfetchable` once a key is configured.
   */
  stripe: Stripe | null;
  /** The mode of the client's key. */
  livemode: boolean;
  metrics: Metrics;
  logger: Logger;
  /** Counts the inbox's commits in flight, for workers in another thread that yield to them. */
  commitGate?: CommitGate;
};

export type SyncEngine = ReturnType<typeof createSyncEngine>;

/** Webhooks in, inbox, workers and refetch jobs, wired together over one database. */
export function createSyncEngine(options: SyncEngineOptions) {
  const { database, config, metrics, logger } = options;
  const inbox = new Inbox(database.pool, {
    ...(options.commitGate ? { gate: options.commitGate } : {}),
    onCommit: (commit) => {
      for (const ms of commit.waitedMs) metrics.inboxWaitSeconds.observe(ms / 1000);
      metrics.inboxCommitSeconds.observe(commit.commitMs / 1000);
      metrics.inboxCommitEvents.observe(commit.events);
    },
  });
  const onAnswer = (answer: { status: number; code: string; durationMs: number }) => {
    metrics.webhookAnswers.inc({ status: String(answer.status), code: answer.code });
    metrics.webhookAckSeconds.observe(answer.durationMs / 1000);
  };
  // A 500 is a mistake of the host application, to be fixed; a 503 passes once the inbox is back.
  const onFailure = ({ status, code, message, error }: WebhookFailure) =>
    logger[status === 500 ? 'error' : 'warn'](
      { err: error, status, code },
      `webhook answered ${status}: ${message}`,
    );
  const store = (event: Parameters<Inbox['store']>[0]) => inbox.store(event);
  const platformWebhooks: WebhookOptions = {
    secrets: () => config.webhookSecrets,
    store,
    onAnswer,
    onFailure,
  };
  // Connect endpoints sign with their own secrets.
  const connectWebhooks: WebhookOptions = {
    secrets: () =>
      config.connectWebhookSecrets.length > 0 ? config.connectWebhookSecrets : config.webhookSecrets,
    store,
    onAnswer,
    onFailure,
    connect: true,
  };
  const context = { accountKeys: config.accountKeys };
  const stripeFor = (livemode: boolean) => (livemode === options.livemode ? options.stripe : null);
  const worker = new InboxWorker({
    pool: database.pool,
    apiVersion: API_VERSION,
    context,
    batchSize: config.workerBatchSize,
    gatherMs: config.workerGatherMs,
    onBatch: (report: BatchReport) => {
      for (const outcome of report.outcomes.values()) metrics.eventsSettled.inc({ outcome });
      for (const ms of report.visibleAfterMs) metrics.visibleSeconds.observe(ms / 1000);
    },
    onError: (error, eventId) => {
      metrics.eventsFailed.inc();
      logger.warn({ err: error, eventId }, 'applying an inbox event failed; it will be retried');
    },
  });
  const refetchDeps: RefetchDependencies = {
    pool: database.pool,
    stripeFor,
    context,
    limiter: createLimiter(config.stripeRequestsPerSecond),
    onGiveUp: (given, error) => {
      metrics.refetchesGivenUp.inc(given.length);
      logger.error(
        { err: error, objects: given.map((row) => `${row.objectType} ${row.objectId}`) },
        `${lastingFailureOf(error)} ${MAX_ATTEMPTS} times, for each of these; the events that asked are ` +
          'dead-lettered (subledger replay --failed asks again once the cause is fixed)',
      );
    },
  };
  const refetcher = new Refetcher({
    ...refetchDeps,
    onError: (error) =>
      logger.warn({ err: error }, 'reading an object from Stripe failed; it will be retried'),
  });
  let jobs: Runner | null = null;
  const reconciling = scheduledReconcile(
    options.stripe && {
      database,
      stripe: options.stripe,
      context,
      place: { stripeAccount: PLATFORM, livemode: options.livemode },
      requestsPerSecond: config.stripeRequestsPerSecond,
    },
    config.reconcileEveryMinutes,
    logger.child({ part: 'reconcile' }),
  );

  return {
    inbox,
    worker,
    /** `backfill`, `reconcile`, `catchUp` and `replay`: the self-healing commands as library calls. */
    ...selfHealing({ database, config, stripe: options.stripe, livemode: options.livemode, inbox }),
    /** `POST /webhooks/stripe` as a web-standard handler. */
    handleWebhook: createWebhookHandler(platformWebhooks),
    /** `POST /webhooks/stripe/connect` as a web-standard handler. */
    handleConnectWebhook: createWebhookHandler(connectWebhooks),
    /** The same endpoints for a server that reads the delivery itself. */
    acceptWebhook: createWebhookAcceptor(platformWebhooks),
    acceptConnectWebhook: createWebhookAcceptor(connectWebhooks),
    /** Reads a serial key's pending refetches now (the refetcher does the same in the background). */
    refetch: (serialKey: string) => refetchNow(refetchDeps, serialKey),
    async startWorkers(): Promise<void> {
      await worker.start();
      await refetcher.start();
      jobs = await startJobs(database.pool, reconciling.tasks, logger, { schedules: reconciling.schedules });
    },
    /** Lets in-flight batches and jobs finish; what is not claimed stays queued in Postgres. */
    async stop(): Promise<void> {
      await worker.stop();
      await refetcher.stop();
      await jobs?.stop();
      jobs = null;
    },
  };
}
