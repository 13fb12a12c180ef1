import {
  type AccessPolicy,
  createAccessService,
  DEFAULT_ACCESS_POLICY,
  readTimeline,
} from './access/index.ts';
import { validAccountId } from './access/service.ts';
import { createAuthenticator, createRateLimiter } from './auth/index.ts';
import {
  type Billing,
  type CheckoutRequest,
  ensureCustomer,
  requireBilling,
  startCheckout,
  syncCheckout,
} from './billing/index.ts';
import { type Catalog, loadCatalog } from './catalog/index.ts';
import { type Config, loadConfig } from './config/index.ts';
import { createCreditsService } from './credits/index.ts';
import { createApp } from './http/index.ts';
import { type Database, migrate, openDatabase } from './store/index.ts';
import { accountView, type CommitGate, migrateJobs, syncAccount } from './sync/index.ts';
import { createLogger, type Logger, Metrics } from './telemetry/index.ts';
import { recordUsage, type UsageRecord } from './usage/index.ts';
import { backgroundWork, syncParts } from './workers.ts';

export type SubledgerOptions = {
  config?: Config;
  /** An open database; otherwise one is opened from the config (and closed by `close`). */
  database?: Database;
  logger?: Logger;
  /** The app's plans and features; otherwise the module `SUBLEDGER_CATALOG` names, else the demo. */
  catalog?: Catalog;
  /** How access treats past-due accounts and prepaid credits (default: 7 days of grace). */
  accessPolicy?: AccessPolicy;
  /** The access cache's TTL (default 60 s, a fallback: changes are notified) and size (250,000). */
  accessCache?: { ttlMs?: number; maxAccounts?: number };
  /** Counts the inbox's commits in flight, for a workers' thread that yields to them. */
  commitGate?: CommitGate;
};

export type Subledger = Awaited<ReturnType<typeof createSubledger>>;

/**
 * Subledger as a library: opens (and migrates) the database, builds the Stripe client, the sync engine
 * and the HTTP app. Workers start with `startWorkers()`; `webhooks.handle` is a web-standard handler
 * that mounts in any framework.
 */
export async function createSubledger(options: SubledgerOptions = {}) {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const database = options.database ?? (await openDatabase(config, (message) => logger.warn(message)));
  await migrate(database);
  await migrateJobs(database.pool, logger);
  const { stripe, livemode, sync, place } = syncParts(config, database, metrics, logger, options.commitGate);
  const context = { accountKeys: config.accountKeys };
  const catalog = options.catalog ?? (await loadCatalog(config.catalogModule));
  const credits = createCreditsService({ database, place });
  const policy = options.accessPolicy ?? DEFAULT_ACCESS_POLICY;
  const background = backgroundWork({ database, sync, catalog, place, policy, logger });
  const { granter, timeline } = background;
  const creditsApi = { ...credits, grantPending: () => granter.drain() };
  const accounts = {
    /**
     * The mirror's view of an app account; null when no Stripe customer is linked to it. An id the HTTP
     * API refuses throws `AccessError` `invalid_account_id`, as every account call here does.
     */
    view: async (accountId: string) => accountView(database, validAccountId(accountId), place),
    /** Reads an app account from Stripe now (the success page's eager sync), then returns its view. */
    async sync(accountId: string) {
      const synced = await syncAccount({
        database,
        stripe,
        context,
        accountId: validAccountId(accountId),
        place,
      });
      await granter.drain();
      return synced;
    },
    /** The account's access transitions, newest first: from, to, the cause event, the time. */
    timeline: async (accountId: string) => readTimeline(database, place, validAccountId(accountId)),
    /** The account's credit ledger entries, newest first (the timeline shows them beside transitions). */
    creditEntries: async (accountId: string) => credits.entries(validAccountId(accountId), { limit: 100 }),
  };
  const access = createAccessService({
    creditsBalance: async (accountId, creditType) => (await credits.balance(accountId, creditType)).available,
    database,
    catalog,
    place,
    logger,
    policy,
    ...(options.accessCache ? { cache: options.accessCache } : {}),
  });
  await access.start();
  const usage = {
    /** Records a use of a metered feature, counted by checks at once; false: its key was seen before. */
    async record(record: UsageRecord): Promise<boolean> {
      const recorded = await recordUsage(database, place, record);
      access.invalidate([{ kind: 'usage', id: record.accountId }]);
      return recorded;
    },
  };
  const billingContext: Billing | null = stripe ? { database, stripe, place, context } : null;
  const billing = billingActions(billingContext, catalog, creditsApi.grantPending);
  const app = createApp({
    sync,
    database,
    metrics,
    logger,
    accounts,
    access,
    billing: billingContext,
    catalog,
    credits: creditsApi,
    authenticator: createAuthenticator({ database, livemode, jwt: config.jwt }),
    rateLimiter: createRateLimiter({ perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst }),
  });
  return {
    config,
    database,
    stripe,
    metrics,
    logger,
    sync,
    accounts,
    catalog,
    /** `check(accountId, featureId, { quantity })` and `entitlements(accountId)`, from the mirror. */
    access,
    usage,
    /** Stripe actions for an account: its customer, checkout, the success page's sync. */
    billing,
    /**
     * Prepaid credits: grant, consume, reserve → commit | release, balance. `grantPending()` grants
     * what paid invoices and top-ups the mirror holds have not granted yet (the workers do it by themselves).
     */
    credits: creditsApi,
    app,
    webhooks: { handle: sync.handleWebhook, handleConnect: sync.handleConnectWebhook },
    /** Starts the sync workers, the recorder of access transitions and the granter of paid credits. */
    startWorkers: background.start,
    /** Records the transitions of these accounts now (the recorder does it by itself as changes land). */
    recordTransitions: (accountIds: readonly string[]) => timeline.evaluate(accountIds),
    async close(): Promise<void> {
      await background.stop();
      await access.stop();
      if (!options.database) await database.close();
    },
  };
}

function billingActions(billing: Billing | null, catalog: Catalog, grantPending: () => Promise<number>) {
  const ready = () => requireBilling(billing);
  return {
    /** The account's Stripe customer, created once however many ask at the same moment. */
    customer: (accountId: string) => ensureCustomer(ready(), accountId),
    /** A Checkout session for a plan, price or top-up; see `startCheckout`. */
    checkout: (request: CheckoutRequest) => startCheckout(ready(), catalog, request),
    /** Reads a completed checkout's account from Stripe now (the success page). */
    async syncCheckout(sessionId: string) {
      const synced = await syncCheckout(ready(), sessionId);
      await grantPending();
      return synced;
    },
  };
}
