import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { missingNodeFlags, NODE_FLAGS, SHEBANG } from '../src/cli/node-flags.ts';

const BIN = fileURLToPath(new URL('../bin/subledger.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('subledger CLI', () => {
  it('runs node with NODE_FLAGS when executed through its bin', () => {
    assert.equal(readFileSync(BIN, 'utf8').split('\n')[0], SHEBANG);
    // As `npm start` runs it: the file itself, its `#!` line finding the project's node on the PATH.
    const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
    const result = spawnSync(BIN, ['--help'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, PATH },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Usage: subledger/);
  });

  it('tells which of NODE_FLAGS a process goes without, whether given as arguments or in NODE_OPTIONS', () => {
    assert.deepEqual(missingNodeFlags([], ''), [...NODE_FLAGS]);
    assert.deepEqual(missingNodeFlags(['--expose-gc', ...NODE_FLAGS], ''), []);
    assert.deepEqual(
      missingNodeFlags(['--v8-pool-size=1'], '--max_semi_space_size=16  --heap-growing-percent=300'),
      [],
    );
    assert.deepEqual(missingNodeFlags(['--max-semi-space-size=64'], ''), [...NODE_FLAGS]);
  });

  it('lists only the commands that exist', () => {
    const result = run('--help');
    assert.equal(result.status, 0);
    for (const command of ['start', 'migrate', 'emulator', 'catalog', 'keys', 'credits'])
      assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  });

  it('documents every option of the emulator command', () => {
    const result = run('emulator', '--help');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /--port <port>/);
    assert.match(result.stdout, /--seed <seed>/);
  });

  it('rejects a bad port with one clear line and a non-zero exit', () => {
    const result = run('emulator', '--port', 'eighty');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /port/);
    assert.ok(result.stderr.trim().split('\n').length <= 3, result.stderr);
  });

  it('rejects an unknown command', () => {
    const result = run('frobnicate');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /unknown command/);
  });

  it('starts an emulator that the official SDK talks to, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--seed', '7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(chunk.toString())?.[1]);
      assert.ok(port > 0, chunk.toString());
      const stripe = new Stripe('sk_test_cli', {
        host: '127.0.0.1',
        port,
        protocol: 'http',
        telemetry: false,
      });
      const customer = await stripe.customers.create({ email: 'cli@example.com' });
      assert.match(customer.id, /^cus_/);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
