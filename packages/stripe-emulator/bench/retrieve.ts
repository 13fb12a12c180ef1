/**
 * Emulator throughput: the emulator runs in its own process (as in a test suite that starts it once),
 * autocannon drives it over loopback. Prints figures; asserts nothing.
 *
 *   npm run bench
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Stripe from 'stripe';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;
const KEY = 'sk_test_bench';

async function startEmulatorProcess(): Promise<{ child: ChildProcess; port: number }> {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child = spawn(process.execPath, [cli, '--port', '0', '--seed', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const port = Number(/:(\d+)/.exec(line.toString())?.[1]);
  if (!port) throw new Error(`emulator did not report its port: ${line.toString()}`);
  return { child, port };
}

async function measure(title: string, options: autocannon.Options) {
  const result = await autocannon({ duration: DURATION_SECONDS, connections: CONNECTIONS, ...options });
  const errors = result.errors + result.non2xx;
  console.log(
    `${title.padEnd(34)} ${Math.round(result.requests.average).toString().padStart(7)} req/s   ` +
      `p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   errors ${errors}`,
  );
}

const { child, port } = await startEmulatorProcess();
try {
  const stripe = new Stripe(KEY, { host: '127.0.0.1', port, protocol: 'http', telemetry: false });
  const customer = await stripe.customers.create({ email: 'bench@example.com' });
  const headers = { authorization: `Bearer ${KEY}` };
  console.log(
    `stripe-emulator, ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, emulator in its own process`,
  );
  await measure('GET /v1/customers/:id (retrieve)', {
    url: `http://127.0.0.1:${port}/v1/customers/${customer.id}`,
    headers,
  });
  await measure('POST /v1/customers (create)', {
    url: `http://127.0.0.1:${port}/v1/customers`,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'email=load%40example.com&metadata[plan]=pro',
  });
} finally {
  child.kill('SIGTERM');
}
