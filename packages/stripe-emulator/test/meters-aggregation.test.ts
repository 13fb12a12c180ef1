import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aggregate,
  type Formula,
  groupingWindows,
  summarize,
  type UsagePoint,
  within,
} from '../src/catalog/meter-aggregation.ts';

const HOUR = 3600;
const DAY = 86_400;
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

describe('meter aggregation', () => {
  const points: UsagePoint[] = [
    { timestamp: T0 + 10, value: 5 },
    { timestamp: T0 + 30, value: 2 },
    { timestamp: T0 + 20, value: 7 },
    { timestamp: T0 + 30, value: 4 },
  ];

  const cases: [Formula, UsagePoint[], number][] = [
    ['sum', points, 18],
    ['count', points, 4],
    ['last', points, 4], // latest timestamp; the later arrival wins a tie
    ['last', points.slice(0, 3), 2],
    ['sum', [], 0],
    ['count', [], 0],
    ['last', [], 0],
    [
      'sum',
      [
        { timestamp: T0, value: 0.5 },
        { timestamp: T0, value: 0.25 },
      ],
      0.75,
    ],
  ];
  for (const [formula, input, expected] of cases)
    it(`${formula} of ${input.length} points is ${expected}`, () => {
      assert.equal(aggregate(formula, input), expected);
    });

  it('keeps points in [start, end)', () => {
    assert.deepEqual(
      within(points, T0 + 20, T0 + 30).map((p) => p.value),
      [7],
    );
  });

  it('cuts windows at UTC boundaries and clips the ends', () => {
    assert.deepEqual(groupingWindows(T0 + 1800, T0 + 2 * HOUR + 60, 'hour'), [
      { start: T0 + 1800, end: T0 + HOUR },
      { start: T0 + HOUR, end: T0 + 2 * HOUR },
      { start: T0 + 2 * HOUR, end: T0 + 2 * HOUR + 60 },
    ]);
    assert.deepEqual(groupingWindows(T0, T0 + 2 * DAY, 'day'), [
      { start: T0, end: T0 + DAY },
      { start: T0 + DAY, end: T0 + 2 * DAY },
    ]);
    assert.deepEqual(groupingWindows(T0, T0, 'day'), []);
  });

  it('summarizes a whole range as one summary even without events', () => {
    assert.deepEqual(summarize('sum', [], T0, T0 + DAY, undefined), [{ start: T0, end: T0 + DAY, value: 0 }]);
  });

  it('summarizes per window with events, newest first', () => {
    const usage: UsagePoint[] = [
      { timestamp: T0 + 5, value: 1 },
      { timestamp: T0 + 2 * DAY + 5, value: 3 },
      { timestamp: T0 + 2 * DAY + 50, value: 4 },
    ];
    assert.deepEqual(summarize('sum', usage, T0, T0 + 3 * DAY, 'day'), [
      { start: T0 + 2 * DAY, end: T0 + 3 * DAY, value: 7 },
      { start: T0, end: T0 + DAY, value: 1 },
    ]);
    assert.deepEqual(
      summarize('last', usage, T0, T0 + 3 * DAY, 'day').map((s) => s.value),
      [4, 1],
    );
    assert.deepEqual(
      summarize('count', usage, T0, T0 + 3 * DAY, 'hour').map((s) => s.value),
      [2, 1],
    );
  });
});
