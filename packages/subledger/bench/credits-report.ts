import type { Check } from './credits-books.ts';
import type { Run } from './credits-load.ts';
import { mark } from './report.ts';
import { perSecond, summarize } from './stats.ts';

export type PhaseResult = { name: string; connections: number; run: Run; check: Check };

/** The goals, as the bench prints them. */
const GOALS = { spreadPerSecond: 5_000, hotOverNaive: 3 };

const count = (value: number) => Math.round(value).toLocaleString('en-US');
/** Consumes answered (spent or refused) per second of the run. */
export const answeredPerSecond = (run: Run) => perSecond(run.spent + run.refused, run.elapsedMs);

export function printCreditsReport(report: {
  phases: readonly PhaseResult[];
  clients: number;
  spread: { subledger: PhaseResult; naive: PhaseResult };
  hot: { subledger: PhaseResult; naive: PhaseResult };
}): void {
  const header = [
    'phase',
    'pool',
    'consumes/s',
    'p50 ms',
    'p99 ms',
    'spent',
    'refused',
    'failed',
    'overdraft',
    'books',
  ];
  const rows = report.phases.map((phase) => {
    const latency = summarize(phase.run.latenciesMs);
    return [
      phase.name,
      String(phase.connections),
      count(answeredPerSecond(phase.run)),
      latency.p50.toFixed(2),
      latency.p99.toFixed(2),
      count(phase.run.spent),
      count(phase.run.refused),
      count(phase.run.failed),
      count(phase.check.overdraft),
      phase.check.exact ? 'exact' : 'WRONG',
    ];
  });
  console.log(`\nCredits: ${report.clients} concurrent clients, each consume 1 credit under a unique key`);
  console.log(columns([header, ...rows]));

  const spread = answeredPerSecond(report.spread.subledger.run);
  const ratio = answeredPerSecond(report.hot.subledger.run) / answeredPerSecond(report.hot.naive.run);
  console.log('\nGoals');
  console.log(
    columns([
      [
        `over 1,000 accounts > ${count(GOALS.spreadPerSecond)}/s`,
        `${count(spread)}/s  (naive ${count(answeredPerSecond(report.spread.naive.run))}/s)`,
        mark(spread > GOALS.spreadPerSecond),
      ],
      [
        `hot account ≥ ${GOALS.hotOverNaive}× naive`,
        `${ratio.toFixed(2)}×  (${count(answeredPerSecond(report.hot.subledger.run))}/s vs ${count(answeredPerSecond(report.hot.naive.run))}/s)`,
        mark(ratio >= GOALS.hotOverNaive),
      ],
      [
        'zero overdraft',
        `${count(report.phases.reduce((sum, phase) => sum + phase.check.overdraft, 0))}`,
        mark(report.phases.every((phase) => phase.check.overdraft === 0)),
      ],
    ]),
  );
  for (const phase of report.phases) {
    for (const problem of phase.check.problems) console.log(`  ! ${phase.name}: ${problem}`);
    if (phase.run.firstError) console.log(`  ! ${phase.name}: first failure: ${phase.run.firstError}`);
  }
}

/** Left-aligned first column, the others right-aligned, two spaces apart. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, index) => Math.max(...rows.map((row) => (row[index] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) =>
          index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
        )
        .join('  '),
    )
    .map((line) => `  ${line}`)
    .join('\n');
}
