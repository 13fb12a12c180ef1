import { Command, InvalidArgumentError } from 'commander';
import { startEmulator } from 'stripe-emulator';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('must be a port number between 0 and 65535.');
  return port;
}

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(value);
}

/** `subledger emulator`: the offline Stripe, for the server, tests and anyone integrating with Stripe. */
export function emulatorCommand(): Command {
  return new Command('emulator')
    .description(
      'Run the offline Stripe emulator (Stripe REST API under /v1/, control paths under /_emulator/)',
    )
    .option('--port <port>', 'port to listen on', parsePort, 12111)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--seed <seed>', 'seed for ids, faults and delivery order (replays a run)', parseSeed)
    .action(async (options: { port: number; host: string; seed?: number }) => {
      const running = await startEmulator({
        port: options.port,
        hostname: options.host,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
      console.log(`Stripe emulator listening on ${running.url} (seed ${running.emulator.random.seed})`);
      console.log(
        `Point the stripe SDK at it: new Stripe('sk_test_…', { host: '${options.host}', port: ${running.port}, protocol: 'http' })`,
      );
      const stop = async () => {
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
