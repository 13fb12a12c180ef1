import type { BackfillRun } from './backfill.ts';
import type { Stream } from './event-stream.ts';
import type { PeerResult } from './peer.ts';
import type { LoadResult } from './senders.ts';
import { counts, middleBy, ms, perSecond, rate, type Summary, table } from './stats.ts';
import type { PhaseResult } from './subledger-phase.ts';

/**
 * One turn of the phases the goals are judged on: Subledger at the steady rate, Subledger draining a full
 * inbox, and the peer called in-process (`peerInFlight` at a time) right after it.
 */
export type Round = { steady: PhaseResult; drained: PhaseResult; peer: PeerResult };

export type Report = {
  stream: Stream;
  rounds: Round[];
  /** The same rate with the workers started only after the last acknowledgement: ingest alone. */
  steadyIdle: PhaseResult;
  burst: PhaseResult;
  inProcess: PhaseResult;
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
/** Time in which every task on the machine waited on I/O (Linux's pressure stall information). */
const stalled = ({ diskStalls }: PhaseResult) =>
  diskStalls === null
    ? 'not reported by this kernel'
    : `${ms(diskStalls.totalMs)}, worst 100 ms: ${ms(diskStalls.worstWindowMs)}`;
const total = (record: Record<string, number>) => Object.values(record).reduce((sum, n) => sum + n, 0);

export function printReport(report: Report): void {
  const { rounds, steadyIdle, burst, inProcess, peerHttp } = report;
  const { steady } = middleBy(rounds, (round) => round.steady.load.latencyMs.p99);
  const { drained, peer } = middleBy(rounds, (round) => -processingRatio(round));
  const ingest = loadRate(burst);
  const applied = appliedRate(burst);
  const peerRate = loadRate(peer);
  const peerHttpRate = loadRate(peerHttp);
  const direct = appliedRate(inProcess);
  const processing = processingRate(drained);
  const ratios = rounds.map(processingRatio);
  const eachRound = (figure: (round: Round) => string) => rounds.map(figure).join(' · ');
  const sections = [
    table(`Subledger at a steady ${report.rate} deliveries/s (open loop), ${roundsOf(rounds)}`, [
      ['client ack p99, each round', eachRound((round) => ms(round.steady.load.latencyMs.p99))],
      ['  the disk stalled (I/O pressure, full)', eachRound((round) => stalled(round.steady))],
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
      ['  the disk stalled (I/O pressure, full)', stalled(steadyIdle)],
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
        'applied, each round',
        eachRound((round) => `${rate(processingRate(round.drained))} (peer ${rate(loadRate(round.peer))})`),
      ],
      [
        'applied, the median round by ratio',
        `${rate(processing)}   (${drained.distinctSent} events settled ${seconds(drained.settledAt - drained.workersStartedAt)} after the workers started, refetches included)`,
      ],
      ['Stripe requests', `${total(drained.stripeRequests)} (${counts(drained.refetchRequests)})`],
    ]),
    table(
      `Subledger in-process: the handler called directly, ${report.peerInFlight} in flight (as the peer is fed)`,
      [
        [
          'ingest (acknowledged)',
          `${rate(loadRate(inProcess))}   (${inProcess.load.sent} in ${seconds(inProcess.load.endedAt - inProcess.load.startedAt)})`,
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
      ...rounds.flatMap((round, index): [string, PhaseResult][] => [
        [`steady ${index + 1}`, round.steady],
        [`processing ${index + 1}`, round.drained],
      ]),
      ['steady, workers idle', steadyIdle],
      ['throughput', burst],
      ['in-process', inProcess],
    ]),
    table('Peer @supabase/stripe-sync-engine 0.48.5, Stripe calls off', [
      [
        `applied in-process (${report.peerInFlight} in flight)`,
        `${rate(peerRate)}   (${peer.load.sent} in ${seconds(peer.load.endedAt - peer.load.startedAt)})`,
      ],
      ['  each round', eachRound((round) => rate(loadRate(round.peer)))],
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
        `${times(processing / peerRate)} (a full inbox drained, against the peer in-process right after it; ` +
          `each round ${ratios.map(times).join(', ')})`,
      ],
    ]),
    table('Backfill into an empty mirror (emulator populated as above)', report.backfill.map(backfillRow)),
    table('Goals', [
      [
        'ack p99 < 10 ms at the steady rate',
        `${ms(steady.load.latencyMs.p99)}  ${mark(steady.load.latencyMs.p99 < 10)}  (${roundsOf(rounds)})`,
      ],
      [
        'webhook-to-visible p99 < 250 ms',
        `${ms(steady.visibleMs.all.p99)}  ${mark(steady.visibleMs.all.p99 < 250)}`,
      ],
      [
        '≥ 3× the peer, processing',
        `${times(processing / peerRate)}  ${mark(processing / peerRate >= 3)}  (${roundsOf(rounds)})`,
      ],
      [
        '≥ 3× the peer, end to end, both over HTTP',
        `${(applied / peerHttpRate).toFixed(2)}×  ${mark(applied / peerHttpRate >= 3)}`,
      ],
      [
        'none lost, none applied twice',
        mark(
          [...rounds.flatMap((round) => [round.steady, round.drained]), steadyIdle, burst, inProcess].every(
            lossless,
          ),
        ),
      ],
    ]),
  ];
  console.log(`\n${sections.join('\n\n')}\n`);
}

const roundsOf = (rounds: readonly Round[]) =>
  rounds.length === 1 ? 'one round' : `the median of ${rounds.length} rounds`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;
const processingRate = (drained: PhaseResult) =>
  perSecond(drained.distinctSent, drained.settledAt - drained.workersStartedAt);
const processingRatio = (round: Round) => processingRate(round.drained) / loadRate(round.peer);
/** Deliveries answered per second: the peer's applied rate, Subledger's acknowledged (ingest) rate. */
const loadRate = ({ load }: { load: LoadResult }) => perSecond(load.sent, load.endedAt - load.startedAt);
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
          `${phase.load.duplicates}/${phase.load.sent - phase.distinctSent} redeliveries answered as duplicates · ` +
          `${unansweredOf(phase)} · lost ${phase.lost.length}${phase.lost.length > 0 ? ` (${phase.lost.join(', ')})` : ''}`,
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

/**
 * A delivery answered without a 2xx (a connection error is status 0) is one Stripe delivers again; its
 * event missing from the inbox is not lost. An acknowledged one missing is.
 */
function unansweredOf(phase: PhaseResult): string {
  const { unanswered, statuses } = phase.load;
  if (unanswered.length === 0) return 'every delivery answered 2xx';
  const refused = Object.entries(statuses).filter(([status]) => !status.startsWith('2'));
  return `unanswered ${unanswered.length} (status ${refused.map(([status, count]) => `${status} ×${count}`).join(', ')})`;
}

function lossless(phase: PhaseResult): boolean {
  return (
    phase.lost.length === 0 &&
    phase.statuses.processed === phase.storedEvents &&
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
