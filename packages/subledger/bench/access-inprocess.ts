/**
 * In-process checks on a warm cache, in a process of its own (`node --expose-gc access-inprocess.ts
 * <job.json>`, one thread): `await subledger.access.check(...)` as an app calls it, random account and
 * feature each time. Checks every warm account's answers against the bench's model first, then measures
 * throughput (a tight loop, no timing inside) and latency (another pass, each call timed). Prints one
 * JSON line.
 */
import { readFileSync } from 'node:fs';
import type { Subledger } from '../src/subledger.ts';
import {
  buildPopulation,
  expectedAnswer,
  type Kind,
  type Pick,
  type Profile,
  randomPicks,
  SANITY_FEATURES,
} from './access-data.ts';
import { collect, openSubledger, warmAccounts } from './access-instance.ts';
import { type Summary, summarize, tally } from './stats.ts';

export type InProcessJob = {
  databaseUrl: string;
  accounts: number;
  now: number;
  seconds: number;
  latencySamples: number;
};

export type Sanity = {
  checked: number;
  /** The first few answers that differ from the model, described. */
  mismatches: string[];
  mismatchCount: number;
  /** One account of each kind: its plan and what `sso` and `api_calls` answered. */
  examples: { kind: Kind; accountId: string; plan: string; sso: string; apiCalls: string }[];
};

export type InProcessResult = {
  accounts: number;
  warmMs: number;
  sanity: Sanity;
  throughput: { calls: number; elapsedMs: number; cpuMs: number; allowed: number };
  latencyNs: Summary & { p999: number };
  /** What one `process.hrtime.bigint()` pair costs alone, included in every latency sample. */
  timerNs: number;
  codes: Record<string, number>;
  cachedBefore: number;
  cachedAfter: number;
};

const PICKS = 1 << 16;

async function sanityOf(subledger: Subledger, profiles: readonly Profile[]): Promise<Sanity> {
  const mismatches: string[] = [];
  let checked = 0;
  let mismatchCount = 0;
  const asks = [
    ...SANITY_FEATURES.map((featureId) => ({ featureId, quantity: 1 })),
    { featureId: 'api_calls', quantity: 10 },
  ];
  for (const profile of profiles)
    for (const { featureId, quantity } of asks) {
      const answer = await subledger.access.check(profile.accountId, featureId, { quantity });
      const expected = expectedAnswer(profile, featureId, quantity);
      checked++;
      if (answer.code === expected.code && answer.used === expected.used) continue;
      mismatchCount++;
      if (mismatches.length < 5)
        mismatches.push(
          `${profile.accountId} (${profile.kind}, ${profile.plan}) ${featureId}×${quantity}: ` +
            `${answer.code} used ${answer.used}, expected ${expected.code} used ${expected.used}`,
        );
    }
  return { checked, mismatches, mismatchCount, examples: await examplesOf(subledger, profiles) };
}

async function examplesOf(subledger: Subledger, profiles: readonly Profile[]): Promise<Sanity['examples']> {
  const firstOfKind = new Map<Kind, Profile>();
  for (const profile of profiles) if (!firstOfKind.has(profile.kind)) firstOfKind.set(profile.kind, profile);
  const examples: Sanity['examples'] = [];
  for (const [kind, profile] of firstOfKind) {
    const sso = await subledger.access.check(profile.accountId, 'sso');
    const apiCalls = await subledger.access.check(profile.accountId, 'api_calls');
    const counted = apiCalls.limit === null ? '' : ` (${apiCalls.used}/${apiCalls.limit})`;
    examples.push({
      kind,
      accountId: profile.accountId,
      plan: profile.plan,
      sso: sso.code,
      apiCalls: `${apiCalls.code}${counted}`,
    });
  }
  return examples;
}

/** Checks in a tight loop for `seconds`, counting answers allowed so that none is optimised away. */
async function throughputOf(subledger: Subledger, picks: readonly Pick[], seconds: number) {
  const { access } = subledger;
  let allowed = 0;
  let calls = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  do {
    for (let i = 0; i < picks.length; i++) {
      const pick = picks[i] as Pick;
      if ((await access.check(pick.profile.accountId, pick.featureId, pick.options)).allowed) allowed++;
    }
    calls += picks.length;
  } while (performance.now() < deadline);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { calls, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1_000, allowed };
}

/** Each call timed alone with `process.hrtime.bigint()`; the codes are tallied outside the timed span. */
async function latencyOf(subledger: Subledger, picks: readonly Pick[], samples: number) {
  const { access } = subledger;
  const nanoseconds = new Float64Array(samples);
  const codes: string[] = new Array(samples);
  for (let i = 0; i < samples; i++) {
    const pick = picks[i % picks.length] as Pick;
    const start = process.hrtime.bigint();
    const answer = await access.check(pick.profile.accountId, pick.featureId, pick.options);
    nanoseconds[i] = Number(process.hrtime.bigint() - start);
    codes[i] = answer.code;
  }
  const sorted = nanoseconds.sort();
  const p999 = sorted[Math.min(samples - 1, Math.ceil(0.999 * samples) - 1)] ?? 0;
  return { latencyNs: { ...summarize(Array.from(sorted)), p999 }, codes: tally(codes) };
}

function timerCost(): number {
  const samples = new Float64Array(100_000);
  for (let i = 0; i < samples.length; i++) {
    const start = process.hrtime.bigint();
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  return summarize(Array.from(samples)).p50;
}

async function run(job: InProcessJob): Promise<InProcessResult> {
  const profiles = buildPopulation(job.accounts, job.now);
  const subledger = await openSubledger(job.databaseUrl);
  try {
    const warmMs = await warmAccounts(subledger, profiles.length);
    const sanity = await sanityOf(subledger, profiles);
    const picks = randomPicks(profiles, PICKS, 1);
    const cachedBefore = subledger.access.cachedAccounts();
    // A first pass compiles the hot path, as in a server that has been answering a while.
    await throughputOf(subledger, picks, Math.min(2, job.seconds));
    collect();
    const throughput = await throughputOf(subledger, picks, job.seconds);
    collect();
    const latency = await latencyOf(subledger, randomPicks(profiles, PICKS, 2), job.latencySamples);
    return {
      accounts: profiles.length,
      warmMs,
      sanity,
      throughput,
      ...latency,
      timerNs: timerCost(),
      cachedBefore,
      cachedAfter: subledger.access.cachedAccounts(),
    };
  } finally {
    await subledger.close();
  }
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as InProcessJob;
process.stdout.write(`${JSON.stringify(await run(job))}\n`);
