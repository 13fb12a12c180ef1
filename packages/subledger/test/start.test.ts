import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort } from './support/database.ts';

const BIN = fileURLToPath(new URL('../bin/subledger.js', import.meta.url));
const folders: string[] = [];
after(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

type LogLine = { msg: string; [field: string]: unknown };

/** `subledger start` as a newcomer runs it: no Stripe key, no DATABASE_URL, nothing else. */
async function startFresh() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'subledger-start-'));
  await chmod(dataDir, 0o755);
  folders.push(dataDir);
  const port = await freePort();
  const environment: Record<string, string | undefined> = {
    ...process.env,
    SUBLEDGER_DATA_DIR: dataDir,
    SUBLEDGER_EMBEDDED_PG_PORT: String(await freePort()),
  };
  for (const name of ['DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'STRIPE_WEBHOOK_SECRET'])
    delete environment[name];
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port)], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.match(line))) waiter.resolve(line);
  });
  const logged = (pattern: RegExp) =>
    new Promise<LogLine>((resolve) => {
      const found = lines.find((line) => pattern.test(line.msg));
      if (found) resolve(found);
      else waiters.push({ match: (line) => pattern.test(line.msg), resolve });
    });
  return { child, port, lines, logged };
}

test('with no Stripe key, start runs against the in-process emulator end to end, and stops on SIGTERM', async () => {
  const { child, port, lines, logged } = await startFresh();
  const announced = await logged(/No STRIPE_SECRET_KEY/);
  assert.equal(lines.indexOf(announced), 0, 'the emulator is announced in the first log line');
  await logged(/Subledger is listening/);
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json(), { ready: true });

  const emulator = new URL(String(announced.stripe));
  const stripe = new Stripe('sk_test_newcomer', {
    host: emulator.hostname,
    port: Number(emulator.port),
    protocol: 'http',
    telemetry: false,
  });
  await stripe.customers.create({ email: 'first-run@example.com' });
  const settled = /subledger_events_settled_total\{outcome="applied"\} [1-9]/;
  for (let attempt = 0; attempt < 100; attempt++) {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (settled.test(metrics)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), settled);

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.ok(lines.some((line) => /Shutting down/.test(line.msg)));
});
