import { parseArgs } from 'node:util';
import { startEmulator } from './index.ts';

/** `stripe-emulator [--port 12111] [--host 127.0.0.1] [--seed N]`, for use without Subledger. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '12111' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('Usage: stripe-emulator [--port 12111] [--host 127.0.0.1] [--seed N]');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`stripe-emulator: --port must be a port number, got '${values.port}'`);
  process.exit(2);
}
const running = await startEmulator({
  port,
  hostname: values.host,
  ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
});
console.log(`Stripe emulator listening on ${running.url}`);
