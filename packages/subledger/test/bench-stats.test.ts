import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullStallTotal } from '../bench/disk-stalls.ts';
import { middleBy, summarize } from '../bench/stats.ts';

test('the middle of an odd number of rounds is the median, whatever their order', () => {
  const rounds = [{ p99: 30 }, { p99: 9 }, { p99: 12 }];
  assert.deepEqual(
    middleBy(rounds, (round) => round.p99),
    { p99: 12 },
  );
});

test('of an even number, the middle is the worse of the two middle rounds for the score', () => {
  const latencies = [8, 11, 9, 40];
  assert.equal(
    middleBy(latencies, (p99) => p99),
    11,
  );
  const ratios = [3.4, 2.9, 3.1, 3.6];
  assert.equal(
    middleBy(ratios, (ratio) => -ratio),
    3.1,
  );
});

test('there is no middle of no rounds', () => {
  assert.throws(() => middleBy([], () => 0), /no items/);
});

test('percentiles are nearest-rank', () => {
  const summary = summarize(Array.from({ length: 100 }, (_, index) => 100 - index));
  assert.deepEqual(summary, { count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
});

test("a disk stall is read from the pressure file's full line, not its some line", () => {
  const pressure =
    'some avg10=0.03 avg60=0.53 avg300=1.86 total=574802112\nfull avg10=0.02 avg60=0.33 avg300=1.16 total=352292389\n';
  assert.equal(fullStallTotal(pressure), 352292389);
  assert.equal(fullStallTotal('some avg10=0.00 avg60=0.00 avg300=0.00 total=12\n'), null);
  assert.equal(fullStallTotal(''), null);
});
