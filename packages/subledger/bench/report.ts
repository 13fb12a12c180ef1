import type { BackfillRun } from './backfill.ts';
import type { Stream } from './event-stream.ts';
import type { PeerResult } from './peer.ts';
import { counts, ms, perSecond, rate, type Summary, table } from './stats.ts';
import type { PhaseResult } from './subledger-phase.ts';

export type Report = {
  stream: Stream;
  steady: PhaseResult;
  /** The same rate with the workers started only after the last acknowledgement: ingest alone. */
  steadyIdle: PhaseResult;
  burst: PhaseResult;
  drained: PhaseResult;
  inProcess: PhaseResult;
  /** The peer called in-process, `peerInFlight` at a time. */
  peer: PeerResult;
  /** The peer behind a webhook route, sent the deliveries over `connections` connections. */
  peerHttp: PeerResult;
  backfill: BackfillRun[];
  rate: number;
  connections: number;
  peerInFlight: number;
};

export const pair = (summary: Summary) =>
  `p50 ${ms(summary.p50)}   p99 ${ms(summary.p99)}   max ${ms(summary.max)}`;
export const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
const total = (record: Record<string, number>) => Object.values(record).reduce((sum, n) => sum + n, 0);

export function printReport(report: Report): void {
  const { steady, steadyIdle, burst, drained, inProcess, peer, peerHttp } = report;
  const ingest = ingestRate(burst);
  const applied = appliedRate(burst);
  const peerRate = loadRate(peer);
  const peerHttpRate = loadRate(peerHttp);
  const direct = appliedRate(inProcess);
  const processing = perSecond(drained.distinctSent, drained.settledAt - drained.workersStartedAt);
  const sections = [
    table(`Subledger at a steady ${report.rate} deliveries/s (open loop)`, [
      ['sent', `${steady.load.sent} in ${seconds(steady.load.endedAt - steady.load.startedAt)}`],
      ['ack latency (client)', pair(steady.load.latencyMs)],
      ['  on the wire alone', pair(steady.load.serviceMs)],
      ['ack latency (server)', pair(steady.ackServerMs)],
      ['  waiting for the commit in flight', pair(steady.inboxWaitMs)],
      [`  inbox commits (${steady.inboxCommitMs.count})`, pair(steady.inboxCommitMs)],
      [
        '  events per commit',
        `p50 ${steady.eventsPerCommit.p50}   p99 ${steady.eventsPerCommit.p99}   max ${steady.eventsPerCommit.max}`,
      ],
      ['webhook-to-visible, all', pair(steady.visibleMs.all)],
      [`  applied from payload (${steady.visibleMs.fromPayload.count})`, pair(steady.visibleMs.fromPayload)],
      [`  settled by a refetch (${steady.visibleMs.refetched.count})`, pair(steady.visibleMs.refetched)],
      ['HTTP statuses', counts(steady.load.statuses)],
    ]),
    table(`The same ${report.rate}/s with the workers idle until the last acknowledgement (ingest alone)`, [
      ['ack latency (client)', pair(steadyIdle.load.latencyMs)],
      ['  on the wire alone', pair(steadyIdle.load.serviceMs)],
      ['ack latency (server)', pair(steadyIdle.ackServerMs)],
      ['  waiting for the commit in flight', pair(steadyIdle.inboxWaitMs)],
      [`  inbox commits (${steadyIdle.inboxCommitMs.count})`, pair(steadyIdle.inboxCommitMs)],
    ]),
    table(`Subledger throughput: every delivery, ${report.connections} connections`, [
      [
        'ingest (acknowledged)',
        `${rate(ingest)}   (${burst.load.sent} in ${seconds(burst.load.endedAt - burst.load.startedAt)})`,
      ],
      [
        'applied end to end',
        `${rate(applied)}   (${burst.distinctSent} events settled after ${seconds(burst.settledAt - burst.load.startedAt)}, refetches included)`,
      ],
      ['ack latency (client)', pair(burst.load.latencyMs)],
      ['webhook-to-visible, all', pair(burst.visibleMs.all)],
      ['HTTP statuses', counts(burst.load.statuses)],
    ]),
    table('Subledger processing: the workers drain a full inbox (every delivery acknowledged first)', [
      [
        'applied',
        `${rate(processing)}   (${drained.distinctSent} events settled ${seconds(drained.settledAt - drained.workersStartedAt)} after the workers started, refetches included)`,
      ],
      ['Stripe requests', `${total(drained.stripeRequests)} (${counts(drained.refetchRequests)})`],
    ]),
    table(
      `Subledger in-process: the handler called directly, ${report.peerInFlight} in flight (as the peer is fed)`,
      [
        [
          'ingest (acknowledged)',
          `${rate(ingestRate(inProcess))}   (${inProcess.load.sent} in ${seconds(inProcess.load.endedAt - inProcess.load.startedAt)})`,
        ],
        [
          'applied end to end',
          `${rate(direct)}   (settled after ${seconds(inProcess.settledAt - inProcess.load.startedAt)})`,
        ],
        ['handler latency', pair(inProcess.load.latencyMs)],
        ['webhook-to-visible, all', pair(inProcess.visibleMs.all)],
      ],
    ),
    stripeTable('Stripe calls and refetches', steady, burst),
    correctnessTable([
      ['steady', steady],
      ['steady, workers idle', steadyIdle],
      ['throughput', burst],
      ['processing', drained],
      ['in-process', inProcess],
    ]),
    table('Peer @supabase/stripe-sync-engine 0.48.5, Stripe calls off', [
      [
        `applied in-process (${report.peerInFlight} in flight)`,
        `${rate(peerRate)}   (${peer.load.sent} in ${seconds(peer.load.endedAt - peer.load.startedAt)})`,
      ],
      ['  processWebhook latency', pair(peer.load.latencyMs)],
      [
        `applied over HTTP (${report.connections} connections)`,
        `${rate(peerHttpRate)}   (${peerHttp.load.sent} in ${seconds(peerHttp.load.endedAt - peerHttp.load.startedAt)})`,
      ],
      ['  ack latency (client)', pair(peerHttp.load.latencyMs)],
      ['errors', `${counts(peer.errors)} · over HTTP: ${counts(peerHttp.errors)}`],
      ['Stripe requests', String(peer.stripeRequests + peerHttp.stripeRequests)],
      ['rows', counts(peer.rows)],
      [
        'Subledger / peer, applied',
        `${(applied / peerHttpRate).toFixed(2)}× over HTTP (${report.connections} connections each) · ` +
          `${(direct / peerRate).toFixed(2)}× in-process (${report.peerInFlight} in flight each)`,
      ],
      ['Subledger / peer, ingest over HTTP', `${(ingest / peerHttpRate).toFixed(2)}×`],
      [
        'Subledger / peer, processing',
        `${(processing / peerRate).toFixed(2)}× (a full inbox drained, against the peer in-process)`,
      ],
    ]),
    table('Backfill into an empty mirror (emulator populated as above)', report.backfill.map(backfillRow)),
    table('Goals', [
      [
        'ack p99 < 10 ms at the steady rate',
        `${ms(steady.load.latencyMs.p99)}  ${mark(steady.load.latencyMs.p99 < 10)}`,
      ],
      [
        'webhook-to-visible p99 < 250 ms',
        `${ms(steady.visibleMs.all.p99)}  ${mark(steady.visibleMs.all.p99 < 250)}`,
      ],
      [
        '≥ 3× the peer, processing',
        `${(processing / peerRate).toFixed(2)}×  ${mark(processing / peerRate >= 3)}`,
      ],
      [
        '≥ 3× the peer, end to end, both over HTTP',
        `${(applied / peerHttpRate).toFixed(2)}×  ${mark(applied / peerHttpRate >= 3)}`,
      ],
      [
        'none lost, none applied twice',
        mark([steady, steadyIdle, burst, drained, inProcess].every(lossless)),
      ],
    ]),
  ];
  console.log(`\n${sections.join('\n\n')}\n`);
}

const loadRate = (peer: PeerResult) => perSecond(peer.load.sent, peer.load.endedAt - peer.load.startedAt);
const ingestRate = (phase: PhaseResult) =>
  perSecond(phase.load.sent, phase.load.endedAt - phase.load.startedAt);
const appliedRate = (phase: PhaseResult) =>
  perSecond(phase.distinctSent, phase.settledAt - phase.load.startedAt);

function stripeTable(title: string, steady: PhaseResult, burst: PhaseResult): string {
  const rows: [string, string][] = [];
  for (const [name, phase] of [
    ['steady', steady],
    ['throughput', burst],
  ] as const) {
    const requests = total(phase.stripeRequests);
    rows.push(
      [`${name}: Stripe requests`, `${requests} = ${(requests / phase.distinctSent).toFixed(3)} per event`],
      [`${name}:   by endpoint`, counts(phase.stripeRequests)],
      [`${name}: refetches asked, by reason`, counts(phase.refetchRequests)],
      [`${name}:   by object`, counts(phase.refetchRequestKinds)],
      [`${name}: event outcomes`, counts(phase.outcomes)],
    );
  }
  return table(title, rows);
}

function correctnessTable(phases: [string, PhaseResult][]): string {
  const rows: [string, string][] = [];
  for (const [name, phase] of phases) {
    rows.push(
      [
        `${name}: events`,
        `${phase.distinctSent} distinct sent (${phase.load.sent} deliveries) · ${phase.storedEvents} stored · ` +
          `${phase.load.duplicates}/${phase.load.sent - phase.distinctSent} redeliveries answered as duplicates`,
      ],
      [
        `${name}: inbox`,
        `${counts(phase.statuses)} · attempts ≠ 1: ${phase.notOneAttempt} · committed twice: ${phase.repeatedCommits}`,
      ],
      [`${name}: mirror rows`, counts(phase.mirrorRows)],
    );
  }
  return table('Correctness, same runs', rows);
}

function lossless(phase: PhaseResult): boolean {
  return (
    phase.storedEvents === phase.distinctSent &&
    phase.statuses.processed === phase.distinctSent &&
    phase.notOneAttempt === 0 &&
    phase.repeatedCommits === 0
  );
}

function backfillRow(run: BackfillRun): [string, string] {
  return [
    `${run.requestsPerSecond} req/s, ${run.what}`,
    `${rate(perSecond(run.objects, run.elapsedMs))} objects   (${run.objects} objects, ${run.requests} requests, ${seconds(run.elapsedMs)})`,
  ];
}

export const seconds = (elapsedMs: number) => `${(elapsedMs / 1000).toFixed(1)} s`;
