/** Figures and tables for the sync bench (pure). */

export type Summary = { count: number; p50: number; p90: number; p99: number; max: number };

/** Nearest-rank percentiles of a sample; all zero for an empty one. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

/**
 * The item in the middle when ordered by `score`; of an even number, the higher of the two middle ones, so
 * that a score where lower is better is judged on the worse of them.
 */
export function middleBy<T>(items: readonly T[], score: (item: T) => number): T {
  if (items.length === 0) throw new Error('no items to take the middle of');
  const ordered = [...items].sort((a, b) => score(a) - score(b));
  return ordered[Math.floor(ordered.length / 2)] as T;
}

export function tally<T extends string>(values: Iterable<T>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
export const perSecond = (count: number, elapsedMs: number) =>
  elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
export const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
export const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([key, value]) => `${key} ${value}`)
    .join(', ') || 'none';

/** A two-column table: a title line, then one aligned `name  value` line per row. */
export function table(title: string, rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return [title, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join('\n');
}
