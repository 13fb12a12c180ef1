import type Stripe from 'stripe';
import { type AccessPolicy, createTimelineRecorder, DEFAULT_ACCESS_POLICY } from './access/index.ts';
import { type Catalog, loadCatalog } from './catalog/index.ts';
import type { Config } from './config/index.ts';
import { createGranter } from './credits/index.ts';
import { connect, type Database } from './store/index.ts';
import { createStripeClient } from './stripe/index.ts';
import { isLiveKey } from './stripe/key-mode.ts';
import { type CommitGate, createSyncEngine, defaultPlace, type SyncEngine } from './sync/index.ts';
import { createLogger, type Logger, Metrics } from './telemetry/index.ts';

type Place = ReturnType<typeof defaultPlace>;

/**
 * The Stripe client of the config's key (none without one) and the sync engine over `database`; the
 * server's inbox counts its commits on `commitGate` when one is given.
 */
export function syncParts(
  config: Config,
  database: Database,
  metrics: Metrics,
  logger: Logger,
  commitGate?: CommitGate,
) {
  const stripe = config.stripeSecretKey ? stripeClient(config, metrics) : null;
  const livemode = isLiveKey(config.stripeSecretKey);
  const sync = createSyncEngine({
    database,
    config,
    stripe,
    livemode,
    metrics,
    logger,
    ...(commitGate ? { commitGate } : {}),
  });
  return { stripe, livemode, sync, place: defaultPlace(config.stripeSecretKey) };
}

type BackgroundOptions = {
  database: Database;
  sync: SyncEngine;
  catalog: Catalog;
  place: Place;
  policy: AccessPolicy;
  logger: Logger;
};

/**
 * What runs in the background: the sync engine's inbox workers, refetches and scheduled jobs, the
 * recorder of access transitions and the granter of paid credits.
 */
export function backgroundWork(options: BackgroundOptions) {
  const { database, sync, catalog, place, policy, logger } = options;
  const granter = createGranter({
    pool: database.pool,
    catalog,
    now: () => Math.floor(Date.now() / 1000),
    onError: (error) => logger.warn({ err: error }, 'granting credits failed; it will be retried'),
    onHandled: (request, outcome) =>
      logger.debug({ source: request.sourceId, outcome }, 'credits: a paid source handled'),
  });
  const timeline = createTimelineRecorder({ database, place, policy, logger });
  return {
    granter,
    timeline,
    async start(): Promise<void> {
      await sync.startWorkers();
      await timeline.start();
      await granter.start();
    },
    /** Lets the work in flight finish; what is not claimed stays queued in Postgres. */
    async stop(): Promise<void> {
      await sync.stop();
      await timeline.stop();
      await granter.stop();
    },
  };
}

export type WorkersOptions = {
  config: Config;
  /** The database the server migrated; the workers open a pool of their own on it. */
  databaseUrl: string;
  logger?: Logger;
  /** The server's inbox commits in flight: each transaction of the workers waits for them to begin (bounded). */
  commitGate?: CommitGate;
};

export type Workers = Awaited<ReturnType<typeof createWorkers>>;

/**
 * The background work alone, without the HTTP app or the access cache: what `subledger start` runs in a
 * thread of its own, so that applying events never delays a webhook's acknowledgement.
 */
export async function createWorkers(options: WorkersOptions) {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const { commitGate } = options;
  const database = connect(
    options.databaseUrl,
    commitGate ? { holdStatements: () => commitGate.holdBack() } : {},
  );
  const { stripe, sync, place } = syncParts(config, database, metrics, logger);
  const catalog = await loadCatalog(config.catalogModule);
  const work = backgroundWork({ database, sync, catalog, place, policy: DEFAULT_ACCESS_POLICY, logger });
  return {
    metrics,
    stripe,
    database,
    start: work.start,
    async stop(): Promise<void> {
      await work.stop();
      await database.close();
    },
  };
}

function stripeClient(config: Config, metrics: Metrics): Stripe {
  return createStripeClient({
    secretKey: config.stripeSecretKey as string,
    apiBase: config.stripeApiBase,
    onResponse: (response) =>
      metrics.stripeRequests.inc({ method: response.method, status: String(response.status) }),
  });
}
