/**
 * `POST /v1/check` over loopback: Subledger's server and a bare Hono route, each in a child process
 * (`access-server.ts`), driven in turn by autocannon from this process with the same bodies, the same
 * connections and the same durations.
 */
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { buildPopulation, expectedAnswer, type Pick, randomPicks } from './access-data.ts';
import type { AccessServerJob, AccessServerMessage, ServerMode } from './access-server.ts';
import { type Summary, summarize } from './stats.ts';

export type HttpSetup = {
  databaseUrl: string;
  dir: string;
  accounts: number;
  now: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
};

export type HttpRun = {
  mode: ServerMode;
  requests: number;
  /** autocannon's mean of its per-second samples. */
  requestsPerSecond: number;
  /**
   * From autocannon's per-response times (ms, fractional), not its whole-millisecond histogram; each
   * connection's first response left out.
   */
  latencyMs: Summary;
  statuses: Record<string, number>;
  errors: number;
  /** Time the server took to load its accounts before listening (Subledger only). */
  warmMs: number;
};

export type HttpResult = {
  bodies: number;
  bare: HttpRun;
  subledger: HttpRun;
  /** Subledger's answers to every distinct body, against the bench's model. */
  sanity: { checked: number; mismatchCount: number; mismatches: string[]; codes: Record<string, number> };
};

/**
 * Distinct bodies each connection cycles through: random accounts and features. autocannon builds every
 * connection's copy of them before the first request goes out: 1,024 bodies × 64 connections stalled the
 * load generator ~600 ms at each start; 256 take ~150 ms.
 */
const BODIES = 256;

export async function measureHttp(setup: HttpSetup): Promise<HttpResult> {
  const picks = randomPicks(buildPopulation(setup.accounts, setup.now), BODIES, 3);
  const requests = picks.map((pick) => ({
    method: 'POST' as const,
    path: '/v1/check',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      account_id: pick.profile.accountId,
      feature: pick.featureId,
      quantity: pick.options.quantity,
    }),
  }));
  const run = async (mode: ServerMode) => {
    const server = await startServer(
      { mode, databaseUrl: setup.databaseUrl, accounts: setup.accounts },
      setup.dir,
    );
    try {
      const sanity = mode === 'subledger' ? await sanityOf(server.url, picks, requests) : null;
      await load(server.url, requests, setup.connections, setup.warmupSeconds);
      return {
        run: {
          mode,
          warmMs: server.warmMs,
          ...(await load(server.url, requests, setup.connections, setup.seconds)),
        },
        sanity,
      };
    } finally {
      await server.stop();
    }
  };
  const bare = await run('bare');
  const subledger = await run('subledger');
  return {
    bodies: BODIES,
    bare: bare.run,
    subledger: subledger.run,
    sanity: subledger.sanity ?? { checked: 0, mismatchCount: 0, mismatches: [], codes: {} },
  };
}

type Body = { method: 'POST'; path: string; headers: Record<string, string>; body: string };

function load(url: string, requests: Body[], connections: number, seconds: number) {
  return new Promise<Omit<HttpRun, 'mode' | 'warmMs'>>((resolve, reject) => {
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    // autocannon times a connection's first request from before the connection (and the next ones) were
    // built, so its latency is the load generator's start-up, not the server's: it is left out.
    const started = new Set<unknown>();
    const instance = autocannon({ url, connections, duration: seconds, requests }, (error, result) => {
      if (error) return reject(error);
      resolve({
        requests: result.requests.total,
        requestsPerSecond: result.requests.average,
        latencyMs: summarize(latencies),
        statuses,
        errors: result.errors + result.timeouts,
      });
    });
    instance.on('response', (client, status, _bytes, responseTime) => {
      if (started.has(client)) latencies.push(responseTime);
      else started.add(client);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
}

/** Every distinct body once, its answer compared with the model (code and uses counted). */
async function sanityOf(
  url: string,
  picks: readonly Pick[],
  requests: readonly Body[],
): Promise<HttpResult['sanity']> {
  const mismatches: string[] = [];
  const codes: Record<string, number> = {};
  for (const [index, pick] of picks.entries()) {
    const response = await fetch(`${url}/v1/check`, {
      method: 'POST',
      headers: requests[index]?.headers,
      body: requests[index]?.body,
    });
    const answer = (await response.json()) as { code?: string; used?: number | null };
    const expected = expectedAnswer(pick.profile, pick.featureId, pick.options.quantity);
    codes[String(answer.code)] = (codes[String(answer.code)] ?? 0) + 1;
    if (response.status !== 200 || answer.code !== expected.code || answer.used !== expected.used)
      mismatches.push(
        `${requests[index]?.body} → ${response.status} ${JSON.stringify(answer)}, expected ${expected.code}`,
      );
  }
  return {
    checked: picks.length,
    mismatchCount: mismatches.length,
    mismatches: mismatches.slice(0, 5),
    codes,
  };
}

async function startServer(job: AccessServerJob, dir: string) {
  const jobFile = path.join(dir, `access-server-${job.mode}-${Date.now()}.json`);
  await writeFile(jobFile, JSON.stringify(job));
  const child = fork(fileURLToPath(new URL('./access-server.ts', import.meta.url)), [jobFile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, '--expose-gc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const listening = await new Promise<AccessServerMessage>((resolve, reject) => {
    child.once('message', (message: AccessServerMessage) => resolve(message));
    void exited.then((code) => reject(new Error(`access-server.ts (${job.mode}) exited with ${code}`)));
  });
  return {
    url: listening.url,
    warmMs: listening.warmMs,
    stop: async () => {
      child.send({ type: 'stop' });
      await exited;
    },
  };
}
