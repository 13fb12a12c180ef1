/**
 * How a meter turns events into usage, apart from storage and HTTP: Stripe's three formulas and its
 * summary windows, aligned to UTC hours and days.
 */

export type Formula = 'sum' | 'count' | 'last';
export type Grouping = 'hour' | 'day';

/** One accepted, uncanceled meter event: when it happened and the value it carries. */
export type UsagePoint = { timestamp: number; value: number };

export type WindowSummary = { start: number; end: number; value: number };

const WINDOW_SECONDS: Record<Grouping, number> = { hour: 3600, day: 86_400 };

/**
 * `sum` adds the values, `count` counts the events, `last` takes the value of the latest event (by
 * timestamp; of two events at the same second, the one received later). No events → 0.
 */
export function aggregate(formula: Formula, pointsInArrivalOrder: readonly UsagePoint[]): number {
  if (formula === 'count') return pointsInArrivalOrder.length;
  if (formula === 'sum') return pointsInArrivalOrder.reduce((total, point) => total + point.value, 0);
  let latest: UsagePoint | undefined;
  for (const point of pointsInArrivalOrder)
    if (!latest || point.timestamp >= latest.timestamp) latest = point;
  return latest?.value ?? 0;
}

/** The points with `start <= timestamp < end`, arrival order kept. */
export function within(points: readonly UsagePoint[], start: number, end: number): UsagePoint[] {
  return points.filter((point) => point.timestamp >= start && point.timestamp < end);
}

/**
 * Cuts `[start, end)` at UTC hour or day boundaries; the first and last windows are clipped to the
 * requested range. Oldest first.
 */
export function groupingWindows(
  start: number,
  end: number,
  grouping: Grouping,
): { start: number; end: number }[] {
  const size = WINDOW_SECONDS[grouping];
  const windows: { start: number; end: number }[] = [];
  for (let from = start; from < end; ) {
    const boundary = (Math.floor(from / size) + 1) * size;
    const to = Math.min(boundary, end);
    windows.push({ start: from, end: to });
    from = to;
  }
  return windows;
}

/**
 * The summaries Stripe lists for a range, newest first: one for the whole range when not grouped
 * (even with no events), otherwise one per window that has events.
 */
export function summarize(
  formula: Formula,
  points: readonly UsagePoint[],
  start: number,
  end: number,
  grouping: Grouping | undefined,
): WindowSummary[] {
  if (!grouping) return [{ start, end, value: aggregate(formula, within(points, start, end)) }];
  return groupingWindows(start, end, grouping)
    .map((window) => ({ window, points: within(points, window.start, window.end) }))
    .filter(({ points: inWindow }) => inWindow.length > 0)
    .map(({ window, points: inWindow }) => ({ ...window, value: aggregate(formula, inWindow) }))
    .reverse();
}
