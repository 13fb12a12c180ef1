import type { AddressInfo } from 'node:net';
import { createSubledgerClient, type SubledgerClient } from '@subledger/client';
import Stripe from 'stripe';
import {
  drainWebhooks,
  type FaultOptions,
  type RunningEmulator,
  startEmulator,
  type WebhookOptions,
} from 'stripe-emulator';
import { createApiKey } from '../../src/auth/index.ts';
import type { Catalog } from '../../src/catalog/index.ts';
import { EMULATOR_KEY, registerWebhookEndpoint } from '../../src/cli/local-stripe.ts';
import { loadConfig } from '../../src/config/index.ts';
import { serveHttp } from '../../src/http/index.ts';
import { PLATFORM } from '../../src/store/index.ts';
import { createSubledger, type Subledger } from '../../src/subledger.ts';
import type { Place } from '../../src/sync/index.ts';
import { createLogger } from '../../src/telemetry/index.ts';
import { type TestDatabase, testDatabase } from './database.ts';

export type Stack = {
  emulator: RunningEmulator;
  /** The SDK pointed at the emulator, as the app under test would use it (acting for the stack's place). */
  stripe: Stripe;
  subledger: Subledger;
  /** The place `stripe` acts in, as the mirror's rows name it. */
  place: Place;
  database: TestDatabase;
  url: string;
  /** An admin API key of the test environment, and the typed client that sends it. */
  apiKey: string;
  client: SubledgerClient;
  /** Waits until every webhook is delivered and every event, refetch and job is settled. */
  settle: (timeoutMs?: number) => Promise<void>;
  close: () => Promise<void>;
};

export type StackOptions = {
  faults?: FaultOptions;
  webhooks?: WebhookOptions;
  database?: TestDatabase;
  /** Start the workers (default true); false leaves events in the inbox. */
  workers?: boolean;
  /** Register Subledger's webhook endpoint at the emulator (default true); false: no event is delivered. */
  webhookEndpoint?: boolean;
  environment?: Record<string, string>;
  /** The test's own client sends `Emulator-Fault: none`: only Subledger meets the emulator's API faults. */
  exemptFromApiFaults?: boolean;
  seed?: number;
  catalog?: Catalog;
  /**
   * Where the app under test bills (default: the platform in test mode). `livemode` picks the key both
   * Subledger and `stripe` use. `stripeAccount` is a connected account that `stripe` acts for; its
   * events reach Subledger through a Connect endpoint registered beside the platform's.
   */
  place?: { livemode?: boolean; stripeAccount?: string };
};

/** The emulator's live-mode key: the emulator takes any key of Stripe's form, and its mode from it. */
export const EMULATOR_LIVE_KEY = 'sk_live_subledger_emulator';

/** Emulator, Subledger (server and workers) and a fresh database, wired as `subledger start` wires them. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const database = options.database ?? (await testDatabase());
  const emulator = await startEmulator({
    port: 0,
    seed: options.seed ?? 7,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
  });
  const key = options.place?.livemode ? EMULATOR_LIVE_KEY : EMULATOR_KEY;
  const config = loadConfig({
    STRIPE_SECRET_KEY: key,
    STRIPE_API_BASE: emulator.url,
    LOG_LEVEL: 'silent',
    // The scheduled reconcile would heal drift that a test is about to look for; tests run it themselves.
    SUBLEDGER_RECONCILE_MINUTES: '0',
    ...options.environment,
  });
  const subledger = await createSubledger({
    config,
    database,
    logger: createLogger('silent'),
    ...(options.catalog ? { catalog: options.catalog } : {}),
  });
  const server = serveHttp(subledger.app.fetch, { port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const actingFor = options.place?.stripeAccount;
  if (options.webhookEndpoint !== false) {
    config.webhookSecrets.push(await registerWebhookEndpoint(config, `${url}/webhooks/stripe`));
    if (actingFor)
      config.connectWebhookSecrets.push(
        await registerWebhookEndpoint(config, `${url}/webhooks/stripe/connect`, { connect: true }),
      );
  }
  if (options.workers !== false) await subledger.startWorkers();
  const livemode = options.place?.livemode ?? false;
  const { key: apiKey } = await createApiKey(subledger.database, { scope: 'admin', livemode });
  return {
    emulator,
    stripe: sdkOf(emulator, key, options.exemptFromApiFaults, actingFor),
    subledger,
    place: { stripeAccount: actingFor ?? PLATFORM, livemode },
    database,
    url,
    apiKey,
    client: createSubledgerClient({ baseUrl: url, credential: apiKey }),
    settle: (timeoutMs = 60_000) => settle(emulator, database, timeoutMs),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await subledger.close();
      await emulator.close();
      if (!options.database) await database.drop();
    },
  };
}

const UNSETTLED = `
  select (select count(*) from stripe_events where status = 'pending') as pending,
         (select count(*) from sync_refetches) as refetches,
         (select string_agg(object_type || ' ' || object_id || ' attempts ' || attempts || ': ' || last_error, '; ')
            from sync_refetches where last_error is not null) as refetch_errors,
         (select count(*) from graphile_worker.jobs) as jobs,
         (select count(*) from credit_grant_requests where handled_at is null and next_attempt_at <= now())
           as grants,
         (select string_agg(task_identifier || ' attempts ' || attempts || ': ' || coalesce(last_error, '-'), '; ')
            from graphile_worker.jobs where last_error is not null) as job_errors`;

type Unsettled = {
  pending: number;
  refetches: number;
  refetch_errors: string | null;
  jobs: number;
  job_errors: string | null;
  grants: number;
};

async function settle(emulator: RunningEmulator, database: TestDatabase, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  let last: Unsettled | undefined;
  while (quietRounds < 2) {
    if (Date.now() > deadline) throw new Error(`the stack did not settle in time: ${JSON.stringify(last)}`);
    await drainWebhooks(emulator.emulator, Math.max(1, deadline - Date.now()));
    last = (await database.pool.query<Unsettled>(UNSETTLED)).rows[0];
    const quiet =
      last && Number(last.pending) + Number(last.refetches) + Number(last.jobs) + Number(last.grants) === 0;
    quietRounds = quiet ? quietRounds + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The SDK pointed at the emulator, with `key`, acting for `stripeAccount` when given. */
export function sdkOf(
  emulator: RunningEmulator,
  key: string,
  exemptFromApiFaults = false,
  stripeAccount?: string,
) {
  return new Stripe(key, {
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
    ...(exemptFromApiFaults ? { httpClient: faultExemptHttpClient() } : {}),
    ...(stripeAccount ? { stripeAccount } : {}),
  });
}

/** The SDK's Node HTTP client, each request marked to meet none of the emulator's API faults. */
function faultExemptHttpClient(): Stripe.HttpClient {
  const http = Stripe.createNodeHttpClient();
  return {
    getClientName: () => http.getClientName(),
    makeRequest: (host, port, path, method, headers, ...rest) =>
      http.makeRequest(host, port, path, method, { ...headers, 'Emulator-Fault': 'none' }, ...rest),
  };
}
