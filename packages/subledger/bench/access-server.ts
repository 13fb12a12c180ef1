/**
 * A check server in a process of its own (`node access-server.ts <job.json>`, with an IPC channel), so
 * that the load generator does not share its event loop:
 * - `subledger`: createSubledger's app (`POST /v1/check` and the rest, its middleware included) on
 *   `@hono/node-server`, with the bench's accounts warm in its cache;
 * - `bare`: a Hono app with one route that parses the same JSON body and answers a constant result of
 *   the same shape: what HTTP, Hono and JSON cost alone.
 * Says `listening` with its URL, serves until told `stop`, then closes and exits.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { collect, openSubledger, warmAccounts } from './access-instance.ts';

export type ServerMode = 'subledger' | 'bare';
export type AccessServerJob = { mode: ServerMode; databaseUrl: string; accounts: number };
export type AccessServerMessage = { type: 'listening'; url: string; warmMs: number };

/** An allowed metered answer, as `POST /v1/check` writes one. */
const CONSTANT_ANSWER = {
  allowed: true,
  code: 'allowed',
  state: 'active',
  plan: 'pro',
  limit: 10_000,
  used: 312,
  remaining: 9_688,
  resets_at: 1_767_225_600,
};

function bareApp(): Hono {
  const app = new Hono();
  app.post('/v1/check', async (c) => {
    await c.req.json();
    return c.json(CONSTANT_ANSWER);
  });
  return app;
}

async function appFor(job: AccessServerJob) {
  if (job.mode === 'bare') return { fetch: bareApp().fetch, warmMs: 0, close: async () => {} };
  const subledger = await openSubledger(job.databaseUrl);
  const warmMs = await warmAccounts(subledger, job.accounts);
  return { fetch: subledger.app.fetch, warmMs, close: () => subledger.close() };
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as AccessServerJob;
const app = await appFor(job);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise<void>((resolve) => server.once('listening', resolve));
collect();
const { port } = server.address() as AddressInfo;
process.send?.({
  type: 'listening',
  url: `http://127.0.0.1:${port}`,
  warmMs: app.warmMs,
} satisfies AccessServerMessage);
process.once('message', async () => {
  // Keep-alive connections left open by the load generator would hold `close` until they time out.
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await app.close();
  process.disconnect();
});
