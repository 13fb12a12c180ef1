import type { HttpResult, HttpRun } from './access-http.ts';
import type { InProcessResult } from './access-inprocess.ts';
import type { MemoryResult } from './access-memory.ts';
import type { StalenessResult } from './access-staleness.ts';
import { mark, pair, seconds } from './report.ts';
import { counts, ms, rate, type Summary, table } from './stats.ts';

export type AccessReport = {
  accounts: number;
  checkAccounts: number;
  inProcess: InProcessResult;
  http: HttpResult & { connections: number; seconds: number; warmupSeconds: number };
  memory: MemoryResult;
  staleness: StalenessResult;
};

/** The product's goals, as the bench prints them. */
const GOALS = {
  checksPerSecond: 1_000_000,
  checkP99Ns: 5_000,
  httpShareOfBare: 0.7,
  bytesFor100k: 200 * 1_000_000,
  stalenessP99Ms: 50,
};

const count = (value: number) => Math.round(value).toLocaleString('en-US');
const us = (nanoseconds: number) =>
  nanoseconds >= 1_000_000 ? ms(nanoseconds / 1e6) : `${(nanoseconds / 1_000).toFixed(2)} µs`;
const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
const spread = (summary: Summary) =>
  `p50 ${ms(summary.p50)}   p90 ${ms(summary.p90)}   p99 ${ms(summary.p99)}   max ${ms(summary.max)}`;

export function printAccessReport(report: AccessReport): void {
  const { inProcess, http, memory, staleness } = report;
  const checks = checksPerSecond(inProcess);
  const share = requestsPerSecond(http.subledger) / requestsPerSecond(http.bare);
  const heapPerAccount = (memory.after.heapUsed - memory.before.heapUsed) / memory.accounts;
  const sections = [
    inProcessTable(inProcess),
    httpTable(http),
    memoryTable(memory),
    stalenessTable(staleness),
    table('Goals', [
      [
        `> ${count(GOALS.checksPerSecond)} checks/s on one core`,
        `${rate(checks)}  ${mark(checks > GOALS.checksPerSecond)}`,
      ],
      [
        'check p99 < 5 µs',
        `${us(inProcess.latencyNs.p99)}  ${mark(inProcess.latencyNs.p99 < GOALS.checkP99Ns)}`,
      ],
      [
        'HTTP ≥ 70% of the bare route',
        `${(share * 100).toFixed(0)}%  ${mark(share >= GOALS.httpShareOfBare)}`,
      ],
      [
        '100,000 cached accounts < 200 MB of heap',
        `${megabytes(heapPerAccount * 100_000)}${memory.accounts === 100_000 ? '' : ' (projected)'}  ` +
          mark(heapPerAccount * 100_000 < GOALS.bytesFor100k),
      ],
      [
        'cross-process staleness p99 < 50 ms',
        `${ms(staleness.visibleMs.p99)}  ${mark(staleness.visibleMs.p99 < GOALS.stalenessP99Ms)}`,
      ],
      [
        'every answer as the model predicts',
        mark(inProcess.sanity.mismatchCount === 0 && http.sanity.mismatchCount === 0),
      ],
    ]),
  ];
  console.log(`\n${sections.join('\n\n')}\n`);
}

const checksPerSecond = (result: InProcessResult) =>
  (result.throughput.calls * 1_000) / result.throughput.elapsedMs;
/** autocannon's mean of its per-second samples, as the emulator's bench reports it. */
const requestsPerSecond = (run: HttpRun) => run.requestsPerSecond;

function inProcessTable(result: InProcessResult): string {
  const { throughput, latencyNs, sanity } = result;
  const core = throughput.cpuMs / throughput.elapsedMs;
  return table(
    `In-process check on a warm cache: await access.check(), ${count(result.accounts)} accounts, random account and feature, one thread`,
    [
      [
        'throughput',
        `${rate(checksPerSecond(result))}   (${count(throughput.calls)} checks in ${seconds(throughput.elapsedMs)}, ` +
          `${(core * 100).toFixed(0)}% of a core busy; ${((throughput.allowed / throughput.calls) * 100).toFixed(0)}% allowed)`,
      ],
      [
        `latency per check (${count(latencyNs.count)} timed)`,
        `p50 ${us(latencyNs.p50)}   p90 ${us(latencyNs.p90)}   p99 ${us(latencyNs.p99)}   p99.9 ${us(latencyNs.p999)}   max ${us(latencyNs.max)}`,
      ],
      [
        '  timer',
        `each call timed alone with process.hrtime.bigint(); a pair costs ${result.timerNs} ns, included above`,
      ],
      ['codes seen (latency pass)', counts(result.codes)],
      [
        'sanity',
        `${count(sanity.checked)} answers (each warm account × sso, audit_log, api_calls ×1 and ×10, an unknown feature) ` +
          `against the bench's model: ${sanity.mismatchCount} differ`,
      ],
      ...sanity.mismatches.map((mismatch): [string, string] => ['  differs', mismatch]),
      ...sanity.examples.map((example): [string, string] => [
        `  ${example.kind}`,
        `${example.accountId} (${example.plan}): sso ${example.sso} · api_calls ${example.apiCalls}`,
      ]),
      [
        'cache',
        `${count(result.cachedBefore)} accounts before the runs, ${count(result.cachedAfter)} after (loaded in ${seconds(result.warmMs)})`,
      ],
    ],
  );
}

function httpTable(http: AccessReport['http']): string {
  const row = (name: string, run: HttpRun): [string, string] => [
    name,
    `${rate(requestsPerSecond(run))}   ${pair(run.latencyMs)}   (${count(run.requests)} requests, statuses ${counts(run.statuses)}, errors ${run.errors})`,
  ];
  const share = requestsPerSecond(http.subledger) / requestsPerSecond(http.bare);
  return table(
    `HTTP POST /v1/check on loopback: autocannon, ${http.connections} connections, ${http.seconds} s after ${http.warmupSeconds} s of warm-up, ` +
      `${count(http.bodies)} distinct bodies; each server in its own process`,
    [
      row('bare Hono route (parse, constant answer)', http.bare),
      row('Subledger (createSubledger app)', http.subledger),
      ['Subledger / bare', `${(share * 100).toFixed(0)}% of the bare route's requests/s`],
      [
        'sanity',
        `each distinct body answered by Subledger against the model: ${http.sanity.mismatchCount} of ${count(http.sanity.checked)} differ; ` +
          `codes ${counts(http.sanity.codes)}`,
      ],
      ...http.sanity.mismatches.map((mismatch): [string, string] => ['  differs', mismatch]),
    ],
  );
}

function memoryTable(memory: MemoryResult): string {
  const perAccount = (bytes: number) => `${(bytes / memory.accounts / 1_000).toFixed(2)} kB per account`;
  const line = (before: number, after: number) =>
    `${megabytes(before)} → ${megabytes(after)}: +${megabytes(after - before)}, ${perAccount(after - before)}`;
  return table(
    `Memory: ${count(memory.accounts)} accounts cached in a fresh process, collected before and after`,
    [
      ['heap used', line(memory.before.heapUsed, memory.after.heapUsed)],
      ['RSS', line(memory.before.rss, memory.after.rss)],
      ['cached', `${count(memory.cached)} accounts`],
      [
        'warm-up (cold loads)',
        `${count((memory.accounts * 1_000) / memory.warmMs)} accounts/s   (${count(memory.accounts)} in ${seconds(memory.warmMs)}, ` +
          `${count(memory.inFlight)} in flight)`,
      ],
    ],
  );
}

function stalenessTable(result: StalenessResult): string {
  return table(
    `Cross-process staleness: A records a use, B (its cache warm) checks on every event-loop turn until it counts it; ` +
      `${result.rounds} rounds over ${result.accounts} accounts`,
    [
      ["A's commit → B's answer", spread(result.visibleMs)],
      ["A's call to record → B's answer", spread(result.fromCallMs)],
      ["A's record (its round trip)", spread(result.recordMs)],
      ['counted as expected', `${result.counted} of ${result.rounds} (one more use, exactly)`],
      [
        'clock',
        `both processes on performance.timeOrigin + performance.now(); B − A estimated over IPC pings: ` +
          `p50 ${us(result.clockOffsetMs.p50 * 1e6)} (ping round trip p50 ${us(result.pingRoundTripMs.p50 * 1e6)})`,
      ],
    ],
  );
}
