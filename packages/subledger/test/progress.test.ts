import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { progressDisplay, progressLine } from '../src/cli/progress.ts';
import type { SyncProgress } from '../src/sync/index.ts';

// How backfill and reconcile report their progress: plain lines off a terminal, a bar on one.
test('shows progress as plain lines off a terminal and as a bar with ETA per kind on one', () => {
  const at = (done: number, finished = false) =>
    ({ job: 'backfill', kind: 'invoice', done, expected: 300, finished }) as const;
  assert.equal(progressLine({ ...at(200), expected: null }), 'backfill: invoice 200/…');
  assert.equal(progressLine(at(200)), 'backfill: invoice 200/300');
  assert.equal(progressLine(at(310, true)), 'backfill: invoice 310/310 done');
  /** The bar after these reports, each at a second of a clock that starts with the display. */
  const bar = (...reports: [seconds: number, progress: SyncProgress][]) => {
    const written: string[] = [];
    const terminal = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          written.push(String(chunk));
          done();
        },
      }),
      { isTTY: true, columns: 120 },
    );
    let now = 0;
    const display = progressDisplay(terminal, () => now);
    for (const [seconds, progress] of reports) {
      now = seconds * 1000;
      display.onProgress(progress);
    }
    display.stop();
    return written.join('');
  };
  // As the jobs report: after each page is written, so the first report comes a page late.
  assert.match(bar([10, at(100)]), /backfill invoice \[[^\]]+\] 100\/300 \| …\/s \| ETA …/);
  assert.match(bar([10, at(100)], [20, at(200)]), /200\/300 \| 10\/s \| ETA 10s/);
  // A resumed backfill's first report counts the objects of the run before it.
  const resumed = (done: number) => ({ ...at(done), expected: 10_000 });
  assert.match(bar([10, resumed(5100)], [20, resumed(5200)]), /5200\/10000 \| 10\/s \| ETA 8m0s/);
  // A lost checkpoint cursor starts the count over from 0.
  assert.match(bar([10, at(150)], [20, at(250)], [30, at(50)], [40, at(100)]), /100\/300 \| 5\/s \| ETA 40s/);
  assert.match(bar([10, at(100)], [20, at(300, true)]), /300\/300 \| 20\/s \| ETA done/);
});
