import { notes } from './judge.ts';
import type { FloorCheck } from './known-differences.ts';
import type { ObjectResult } from './object-shapes.ts';
import type { PairOutcome } from './replay.ts';

/** Renders the object-shape results as the table `npm test` prints. */
export function objectTable(results: readonly ObjectResult[], supported: readonly string[]): string {
  const available = results.filter((r) => r.outcome !== 'unavailable');
  const matched = available.filter((r) => r.outcome === 'matched');
  const width = Math.max(...results.map((r) => r.object.length));
  const lines = [
    `Object shapes vs fixtures3.json: ${matched.length} / ${available.length} matched (${percent(matched.length, available.length)}); ${results.length - available.length} not produced`,
  ];
  for (const result of results) {
    const tag = supported.includes(result.object) ? 'supported' : 'tracked';
    const head = `  ${result.object.padEnd(width)}  ${result.outcome.padEnd(11)} ${tag.padEnd(9)}`;
    if (result.outcome === 'unavailable') {
      lines.push(`${head} ${result.reason ?? ''}`);
      continue;
    }
    const parts = [
      list('differs', notes(result.findings, 'failure')),
      list('reference-only', notes(result.findings, 'reference-only')),
      list('sdk-only', notes(result.findings, 'sdk-only')),
      list('allowed', notes(result.findings, 'allowed')),
    ].filter((part) => part !== '');
    lines.push(`${head} ${parts.join('; ')}`.trimEnd());
  }
  return lines.join('\n');
}

const list = (label: string, items: string[]) => (items.length === 0 ? '' : `${label}: ${items.join(' ')}`);

export const percent = (part: number, whole: number) =>
  whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`;

/** Renders the replay results: the share that matched, per endpoint, and what is not supported. */
export function pairTable(outcomes: readonly PairOutcome[]): string {
  const count = (kind: PairOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  const supported = count('matched') + count('mismatched');
  const folders = new Set(outcomes.map((o) => o.pair.id.split('/')[0])).size;
  const lines = [
    `Recorded pairs (pay-rails, API >= 2025-10-29): ${outcomes.length} in ${folders} folders`,
    `  matched ${count('matched')} / supported ${supported} (${percent(count('matched'), supported)}); unsupported ${count('unsupported')}, skipped ${count('skipped')} (depend on unsupported), blocked ${count('blocked')}`,
  ];
  const byEndpoint = groupBy(outcomes, (o) => o.endpoint);
  const width = Math.max(...[...byEndpoint.keys()].map((e) => e.length));
  lines.push('  supported endpoints (matched / replayed, then each distinct problem with its pair count):');
  for (const [endpoint, group] of [...byEndpoint].sort(([a], [b]) => a.localeCompare(b))) {
    const measured = group.filter((o) => o.kind === 'matched' || o.kind === 'mismatched');
    if (measured.length === 0) continue;
    const matched = measured.filter((o) => o.kind === 'matched').length;
    lines.push(`    ${endpoint.padEnd(width)}  ${matched} / ${measured.length}`);
    const problems = new Map<string, number>();
    for (const o of measured)
      if (o.kind === 'mismatched')
        for (const p of new Set(o.problems)) problems.set(p, (problems.get(p) ?? 0) + 1);
    for (const [problem, n] of problems) lines.push(`      ${String(n).padStart(3)} × ${problem}`);
  }
  const unsupported = [...byEndpoint].filter(([, group]) => group.some((o) => o.kind === 'unsupported'));
  lines.push(
    `  unsupported endpoints: ${unsupported.map(([e, g]) => `${e} (${g.filter((o) => o.kind === 'unsupported').length})`).join(', ') || 'none'}`,
  );
  const notRun = outcomes.filter((o) => o.kind === 'skipped' || o.kind === 'blocked');
  const reasons = groupBy(notRun, (o) => `${o.kind}: ${'because' in o ? o.because : ''}`);
  const summarized = new Map<string, number>();
  for (const [reason, group] of reasons) {
    // Ids differ per folder; the reason's shape is what a reader needs.
    const general = reason
      .replace(/\b[a-z]+_[A-Za-z0-9]{8,}\b/g, '<id>')
      .replace(/\d\d-[A-Z]+-[\w.-]+\.json/g, '<step>');
    summarized.set(general, (summarized.get(general) ?? 0) + group.length);
  }
  lines.push('  not run:');
  for (const [reason, n] of [...summarized].sort((a, b) => b[1] - a[1]))
    lines.push(`    ${String(n).padStart(3)} × ${reason}`);
  return lines.join('\n');
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/** The known differences, each with the number of problems it explained in this run. */
export function knownTable(floor: FloorCheck): string {
  const lines = ['Known differences on supported endpoints (problems explained):'];
  for (const [known, n] of floor.explained)
    lines.push(`  ${String(n).padStart(3)} × ${known.endpoint}: ${known.reason}`);
  for (const known of floor.stale)
    lines.push(`    0 × ${known.endpoint}: ${known.reason} (STALE: remove it)`);
  for (const problem of floor.unexplained) lines.push(`  UNEXPLAINED ${problem}`);
  return lines.join('\n');
}
