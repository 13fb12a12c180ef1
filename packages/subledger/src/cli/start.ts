import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { serveHttp } from '../http/index.ts';
import { createSubledger } from '../subledger.ts';
import { CommitGate } from '../sync/index.ts';
import { createLogger } from '../telemetry/index.ts';
import { setUpDemo } from './demo.ts';
import { parsePort } from './emulator.ts';
import { registerWebhookEndpoint, removeEarlierEndpoints, useEmulatorWhenKeyless } from './local-stripe.ts';
import { missingNodeFlags } from './node-flags.ts';
import { takeShutdownSignals } from './shutdown-signals.ts';
import { startWorkerThread } from './worker-thread.ts';

/** `subledger start`: the HTTP server (webhooks, health, metrics) and the workers, until SIGTERM. */
export function startCommand(): Command {
  return new Command('start')
    .description('Run the server and its workers (with no STRIPE_SECRET_KEY, against the Stripe emulator)')
    .option('--port <port>', 'HTTP port (default: PORT, else 4100)', parsePort)
    .action(async (options: { port?: number }) => {
      const config = loadConfig();
      if (options.port !== undefined) config.port = options.port;
      const logger = createLogger(config.logLevel);
      const signals = takeShutdownSignals(logger);
      const keyless = config.stripeSecretKey === undefined;
      const givenSecrets = config.webhookSecrets.length > 0;
      const emulator = await useEmulatorWhenKeyless(config);
      // Shared with the workers' thread, whose statements wait while the inbox commits (see `CommitGate`).
      const commitGate = new CommitGate();
      const subledger = await createSubledger({ config, logger, commitGate });
      const stopping = new AbortController();
      const server = serveHttp(subledger.app.fetch, { port: config.port });
      await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
      const port = (server.address() as AddressInfo).port;
      const webhookUrl = `http://127.0.0.1:${port}/webhooks/stripe`;
      if (keyless) {
        // The in-process emulator is new on every start, with no endpoint: one is always registered, and
        // its secret verifies beside any given one. An emulator at STRIPE_API_BASE keeps its endpoints,
        // so one is registered there only when no secret is given.
        const registered = emulator !== null || !givenSecrets;
        const removed = registered ? await removeEarlierEndpoints(config, webhookUrl) : [];
        if (registered) config.webhookSecrets.push(await registerWebhookEndpoint(config, webhookUrl));
        logger.info(
          { stripe: config.stripeApiBase, webhookUrl },
          registered
            ? 'No STRIPE_SECRET_KEY: running against the Stripe emulator, with a webhook endpoint registered there'
            : 'No STRIPE_SECRET_KEY: running against the Stripe emulator at STRIPE_API_BASE, whose webhooks STRIPE_WEBHOOK_SECRET verifies',
        );
        if (removed.length > 0)
          logger.info(
            { removed },
            'Removed the webhook endpoints that earlier starts registered at the emulator for this URL or a port nothing listens on',
          );
        if (emulator && givenSecrets)
          logger.warn(
            'STRIPE_WEBHOOK_SECRET is set, but it cannot be the in-process emulator’s: the emulator is new ' +
              'on each start and signs with its own endpoint’s secret, which verifies its webhooks beside it',
          );
      }
      if (!keyless && !givenSecrets)
        logger.warn(
          'STRIPE_WEBHOOK_SECRET is not set: POST /webhooks/stripe answers every delivery 503 ' +
            '`webhook_secret_missing` and stores nothing until it is (Stripe delivers them again for up to ' +
            '3 days), and so does the Connect endpoint without STRIPE_CONNECT_WEBHOOK_SECRET',
        );
      // The workers run in a thread of their own: applying a batch never holds up a webhook's answer.
      const workers = await startWorkerThread({
        config,
        databaseUrl: subledger.database.url,
        commitGate,
        onFailure: (error) => {
          logger.fatal({ err: error }, 'The workers failed: shutting down');
          void stop('workers failed', 1);
        },
      });
      subledger.metrics.include(() => workers.metrics());
      logger.info(
        {
          url: `http://127.0.0.1:${port}`,
          database: config.databaseUrl ? 'DATABASE_URL' : `embedded, in ${config.dataDir}`,
        },
        'Subledger is listening',
      );
      const missing = missingNodeFlags();
      if (missing.length > 0)
        logger.warn(
          { missing },
          'node runs without the V8 settings of the subledger bin (src/cli/node-flags.ts): expect slower ' +
            'webhook acknowledgements under load; start it through the bin or pass them to node',
        );
      // Not awaited: the server answers while the demo fills the emulator.
      if (keyless && config.demo) void setUpDemo(config, logger, `http://127.0.0.1:${port}`, stopping.signal);
      async function stop(reason: string, exitCode = 0) {
        if (stopping.signal.aborted) return;
        stopping.abort();
        logger.info({ reason }, 'Shutting down: finishing in-flight work');
        await new Promise((resolve) => server.close(resolve));
        await workers.stop();
        await subledger.close();
        await emulator?.close();
        process.exit(exitCode);
      }
      signals.whenStarted((signal) => void stop(signal));
    });
}
