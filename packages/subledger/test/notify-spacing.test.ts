import assert from 'node:assert/strict';
import { mock, type TestContext, test } from 'node:test';
import { NotifySpacing } from '../src/sync/notify-spacing.ts';

/**
 * The spacing of the inbox's notifications on a clock the test moves: `at(ms)` sets the time and runs
 * the cover timers due by then. Whatever the order of commits, a commit that carried no notification is
 * followed by one that began after it finished. The real timers come back when test `t` ends.
 */
function spaced(t: TestContext, spacingMs = 20) {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let clock = 0;
  const sentAlone: number[] = [];
  let failNext = false;
  // Not async: a send may also fail before it returns a promise (a pool already closed, say).
  const spacing = new NotifySpacing(
    spacingMs,
    () => {
      sentAlone.push(clock);
      if (failNext) {
        failNext = false;
        throw new Error('the database is away');
      }
      return Promise.resolve();
    },
    () => clock,
  );
  const at = (ms: number) => {
    const step = ms - clock;
    clock = ms;
    mock.timers.tick(step);
  };
  return { spacing, at, sentAlone, failNextSend: () => (failNext = true) };
}

test('one commit in a spacing carries the notification; the next after the spacing does again', (t) => {
  const { spacing, at } = spaced(t);
  assert.equal(spacing.claim(), true);
  at(5);
  assert.equal(spacing.claim(), false);
  at(19);
  assert.equal(spacing.claim(), false);
  at(20);
  assert.equal(spacing.claim(), true);
});

test('commits that carried none are covered by one notification sent alone, a spacing after the first', (t) => {
  const { spacing, at, sentAlone } = spaced(t);
  assert.equal(spacing.claim(), true);
  at(2);
  assert.equal(spacing.claim(), false);
  at(3);
  spacing.uncovered();
  at(8);
  assert.equal(spacing.claim(), false);
  at(9);
  spacing.uncovered();
  at(22);
  assert.deepEqual(sentAlone, []);
  at(23);
  assert.deepEqual(sentAlone, [23]);
  at(100);
  assert.deepEqual(sentAlone, [23], 'nothing was left uncovered');
});

test('a notifying commit that began after the uncovered one finished covers it; one that began before does not', (t) => {
  const { spacing, at, sentAlone } = spaced(t);
  assert.equal(spacing.claim(), true);
  at(4);
  assert.equal(spacing.claim(), false);
  at(6);
  spacing.uncovered();
  at(21);
  assert.equal(spacing.claim(), true, 'began after the uncovered commit finished');
  at(40);
  assert.deepEqual(sentAlone, []);

  // It began (at 41) before this uncovered commit finished (at 45): its notification may be read first.
  at(41);
  assert.equal(spacing.claim(), true);
  at(42);
  assert.equal(spacing.claim(), false);
  at(45);
  spacing.uncovered();
  at(65);
  assert.deepEqual(sentAlone, [65]);

  // Two uncovered commits under one cover, a notifying commit beginning between them: the second needs
  // the cover.
  at(70);
  assert.equal(spacing.claim(), false);
  at(71);
  spacing.uncovered();
  at(86);
  assert.equal(spacing.claim(), true);
  at(87);
  assert.equal(spacing.claim(), false);
  at(88);
  spacing.uncovered();
  at(91);
  assert.deepEqual(sentAlone, [65, 91]);
});

test('a notifying commit that failed covers nothing; after a failed notification the next commit sends one', async (t) => {
  const { spacing, at, sentAlone, failNextSend } = spaced(t);
  assert.equal(spacing.claim(), true);
  at(1);
  assert.equal(spacing.claim(), false);
  at(2);
  spacing.uncovered();
  at(20);
  assert.equal(spacing.claim(), true);
  spacing.failed();
  failNextSend();
  at(22);
  assert.deepEqual(sentAlone, [22], 'the failed commit did not cover the one before it');
  await new Promise((resolve) => setImmediate(resolve));
  at(23);
  assert.equal(spacing.claim(), true, 'the notification sent alone failed: the next commit carries one');
});
