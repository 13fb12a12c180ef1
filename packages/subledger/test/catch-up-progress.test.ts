import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CatchUpPass, catchUpProgress } from '../src/sync/catch-up-progress.ts';

// A catch-up over the last 100 seconds, in the second of three passes over the event types.
const pass = (listed: number, reached: number | null, finished = false): CatchUpPass => ({
  pass: 2,
  passes: 3,
  listed,
  since: 1_000,
  until: 1_100,
  reached,
  finished,
});

test("a pass's expected count is what it listed over the share of the window it went back through", () => {
  assert.deepEqual(catchUpProgress(pass(100, 1_075)), {
    job: 'catch-up',
    kind: 'events (2 of 3)',
    done: 100,
    expected: 400,
    finished: false,
  });
  assert.equal(catchUpProgress(pass(300, 1_025)).expected, 400);
  assert.equal(catchUpProgress(pass(200, 1_099)).expected, 20_000, 'one second back of a hundred');
});

test('a pass that has not gone back yet expects nothing it can say', () => {
  assert.equal(catchUpProgress(pass(0, null)).expected, null, 'no page yet');
  assert.equal(catchUpProgress(pass(100, 1_100)).expected, null, "all in the window's last second");
  // A test clock's events carry the clock's time, which may lie ahead of the wall clock.
  assert.equal(catchUpProgress(pass(100, 1_500)).expected, null);
  assert.equal(catchUpProgress({ ...pass(100, 1_050), since: 1_100 }).expected, null, 'an empty window');
});

test('the estimate never falls below what was listed, and a finished pass expects exactly that', () => {
  // A test clock frozen before `since` can list an event older than the window's start.
  assert.equal(catchUpProgress(pass(250, 900)).expected, 250);
  assert.deepEqual(catchUpProgress(pass(412, 1_003, true)), {
    job: 'catch-up',
    kind: 'events (2 of 3)',
    done: 412,
    expected: 412,
    finished: true,
  });
});
