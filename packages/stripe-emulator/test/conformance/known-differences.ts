import type { PairOutcome } from './replay.ts';

/**
 * A problem a replayed pair on a supported endpoint shows today, with the reason it is tolerated. The
 * suite fails on any problem not listed here, and on any entry that no longer occurs (so the list only
 * shrinks as the emulator improves).
 */
export type KnownDifference = {
  /** `POST /v1/customers`, or `*` for every endpoint. */
  endpoint: string;
  /** Matches a problem as printed in the table (`status 200 ≠ 400 …`, `-tax`, `foo: string ≠ object`). */
  problem: RegExp;
  reason: string;
};

export type FloorCheck = {
  /** Problems of mismatched pairs that no known difference covers: `pair id: problem`. */
  unexplained: string[];
  /** Known differences that no pair showed in this run. */
  stale: KnownDifference[];
  /** How many problems each known difference explained. */
  explained: Map<KnownDifference, number>;
};

export function checkFloor(outcomes: readonly PairOutcome[], known: readonly KnownDifference[]): FloorCheck {
  const explained = new Map<KnownDifference, number>();
  const unexplained: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.kind !== 'mismatched') continue;
    for (const problem of outcome.problems) {
      const entry = known.find(
        (k) => (k.endpoint === '*' || k.endpoint === outcome.endpoint) && k.problem.test(problem),
      );
      if (entry) explained.set(entry, (explained.get(entry) ?? 0) + 1);
      else unexplained.push(`${outcome.pair.id} (${outcome.endpoint}): ${problem}`);
    }
  }
  return { unexplained, stale: known.filter((k) => !explained.has(k)), explained };
}
