import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { freePort } from './database.ts';

// `subledger start` run as a user runs it: a process of its own, its log lines read as they come.

const BIN = fileURLToPath(new URL('../../bin/subledger.js', import.meta.url));
const folders: string[] = [];
const running = new Set<ChildProcess>();
// A test that failed midway leaves its server running: stopped as the user would, its cluster with it.
after(async () => {
  const exits = [...running].map((child) => once(child, 'exit'));
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(exits);
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Longer than any step of a start takes on a loaded machine, well inside a test's timeout. */
const WAIT_MS = 45_000;

export type LogLine = { msg: string; [field: string]: unknown };

/** A fresh data dir, as a newcomer's first `npm start` finds it. */
export async function freshDataDir(): Promise<string> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'subledger-start-'));
  await chmod(dataDir, 0o755);
  folders.push(dataDir);
  return dataDir;
}

/** The environment of a newcomer's `start`: no Stripe key, no DATABASE_URL, nothing else. */
export async function newcomerEnvironment(dataDir: string): Promise<Record<string, string | undefined>> {
  const environment: Record<string, string | undefined> = {
    ...process.env,
    SUBLEDGER_DATA_DIR: dataDir,
    SUBLEDGER_EMBEDDED_PG_PORT: String(await freePort()),
  };
  for (const name of [
    'DATABASE_URL',
    'STRIPE_SECRET_KEY',
    'STRIPE_API_BASE',
    'STRIPE_WEBHOOK_SECRET',
    'SUBLEDGER_CATALOG',
    'SUBLEDGER_DEMO',
  ])
    delete environment[name];
  return environment;
}

/** `subledger start` as a newcomer runs it: no Stripe key, no DATABASE_URL, nothing else. */
export async function startFresh() {
  return start(await newcomerEnvironment(await freshDataDir()));
}

/**
 * `nodeFlags`: given to node itself, as the bin's `#!` line does; `node bin/subledger.js` gives none.
 * `port`: the server's, free by default.
 */
export async function start(
  environment: Record<string, string | undefined>,
  nodeFlags: readonly string[] = [],
  port?: number,
) {
  port ??= await freePort();
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'start', '--port', String(port)], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: LogLine[] = [];
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.match(line))) waiter.resolve(line);
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  // A wait that cannot end says why, instead of running into the test's timeout without a word.
  const story = (what: string) =>
    new Error(
      `${what}\nlast log lines:\n${lines
        .slice(-15)
        .map((line) => JSON.stringify(line))
        .join('\n')}\nstderr:\n${errors.slice(-4000)}`,
    );
  const bounded = <T>(waiting: Promise<T>, what: string) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(story(`${what}: still waiting after ${WAIT_MS / 1000} s`)), WAIT_MS);
    });
    return Promise.race([waiting, late]).finally(() => clearTimeout(timer));
  };
  const logged = (pattern: RegExp) =>
    bounded(
      new Promise<LogLine>((resolve, reject) => {
        const found = lines.find((line) => pattern.test(line.msg));
        if (found) return resolve(found);
        waiters.push({ match: (line) => pattern.test(line.msg), resolve });
        void exited.then(([code, signal]) =>
          reject(story(`the server exited (${code ?? signal}) before logging ${pattern}`)),
        );
      }),
      `no log line matched ${pattern}`,
    );
  /** SIGTERM, as a newcomer's Ctrl-C or a deploy does; the process must exit cleanly. */
  const stop = async () => {
    child.kill('SIGTERM');
    const [code] = await bounded(exited, 'the server did not exit on SIGTERM');
    assert.equal(code, 0);
  };
  return { child, port, lines, logged, stop };
}

/** How many events `/metrics` counts as applied. */
export const appliedCount = (metrics: string) =>
  Number(/subledger_events_settled_total\{outcome="applied"\} (\d+)/.exec(metrics)?.[1] ?? 0);

/** Polls `/metrics` until more than `beyond` events are settled as applied (webhooks reached the mirror). */
export async function untilApplied(port: number, beyond = 0): Promise<string> {
  let metrics = '';
  for (let attempt = 0; attempt < 100 && appliedCount(metrics) <= beyond; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }
  assert.ok(appliedCount(metrics) > beyond, `more than ${beyond} events applied:\n${metrics}`);
  return metrics;
}

/** A read key made as the README says: `subledger keys create --scope read`, its last line. */
export async function readKey(environment: Record<string, string | undefined>): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'keys', 'create', '--scope', 'read'], {
    env: environment,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  return output.trim().split('\n').at(-1) as string;
}

export const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** The SDK on the emulator a keyless start announced in its first log line (or on any emulator). */
export function emulatorOf(announced: Record<string, unknown>): Stripe {
  const emulator = new URL(String(announced.stripe));
  return new Stripe('sk_test_newcomer', {
    host: emulator.hostname,
    port: Number(emulator.port),
    protocol: 'http',
    telemetry: false,
  });
}
