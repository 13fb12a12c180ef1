import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addMonths, boundary, nextBoundaryAfter, periodAt, type Recurrence } from '../src/billing/periods.ts';

const utc = (iso: string) => Date.parse(iso) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000', '');

const monthly: Recurrence = { interval: 'month', intervalCount: 1 };

describe('billing period arithmetic', () => {
  it('keeps the anchor day, clamped to short months, without drifting', () => {
    const anchor = utc('2025-01-31T10:20:30Z');
    const table: [number, string][] = [
      [1, '2025-02-28T10:20:30Z'],
      [2, '2025-03-31T10:20:30Z'],
      [3, '2025-04-30T10:20:30Z'],
      [13, '2026-02-28T10:20:30Z'],
      [37, '2028-02-29T10:20:30Z'],
    ];
    for (const [n, expected] of table) assert.equal(iso(boundary(anchor, monthly, n)), expected, `n=${n}`);
  });

  it('steps each interval kind with its count', () => {
    const anchor = utc('2024-02-29T00:00:00Z');
    const table: [Recurrence, number, string][] = [
      [{ interval: 'day', intervalCount: 1 }, 1, '2024-03-01T00:00:00Z'],
      [{ interval: 'day', intervalCount: 10 }, 2, '2024-03-20T00:00:00Z'],
      [{ interval: 'week', intervalCount: 2 }, 1, '2024-03-14T00:00:00Z'],
      [{ interval: 'month', intervalCount: 3 }, 1, '2024-05-29T00:00:00Z'],
      [{ interval: 'year', intervalCount: 1 }, 1, '2025-02-28T00:00:00Z'],
      [{ interval: 'year', intervalCount: 1 }, 4, '2028-02-29T00:00:00Z'],
    ];
    for (const [recurrence, n, expected] of table)
      assert.equal(
        iso(boundary(anchor, recurrence, n)),
        expected,
        `${recurrence.intervalCount} ${recurrence.interval} × ${n}`,
      );
  });

  it('finds the period holding a time, and a short first period before a future anchor', () => {
    const anchor = utc('2025-01-15T00:00:00Z');
    assert.deepEqual(periodAt(anchor, monthly, utc('2025-03-20T00:00:00Z')), {
      start: utc('2025-03-15T00:00:00Z'),
      end: utc('2025-04-15T00:00:00Z'),
    });
    assert.deepEqual(periodAt(anchor, monthly, anchor), { start: anchor, end: utc('2025-02-15T00:00:00Z') });
    const start = utc('2025-01-03T00:00:00Z');
    assert.deepEqual(periodAt(anchor, monthly, start, start), { start, end: anchor });
    assert.equal(
      nextBoundaryAfter(anchor, monthly, utc('2025-02-15T00:00:00Z')),
      utc('2025-03-15T00:00:00Z'),
    );
  });

  it('subtracts months too (the interval before an anchor)', () => {
    assert.equal(iso(addMonths(utc('2025-03-31T00:00:00Z'), -1)), '2025-02-28T00:00:00Z');
    assert.equal(iso(addMonths(utc('2025-01-15T00:00:00Z'), -13)), '2023-12-15T00:00:00Z');
  });

  const recurrence = fc.record({
    interval: fc.constantFrom('day' as const, 'week' as const, 'month' as const, 'year' as const),
    intervalCount: fc.integer({ min: 1, max: 3 }),
  });
  const anchorArb = fc.integer({ min: utc('2000-01-01T00:00:00Z'), max: utc('2060-01-01T00:00:00Z') });

  it('never skips or overlaps: the period holding t contains t and periods tile the timeline', () => {
    fc.assert(
      fc.property(
        anchorArb,
        recurrence,
        fc.integer({ min: 0, max: 10 * 366 * 86_400 }),
        (anchor, rec, offset) => {
          const at = anchor + offset;
          const period = periodAt(anchor, rec, at);
          assert.ok(period.start <= at && at < period.end);
          assert.deepEqual(periodAt(anchor, rec, period.start), period);
          assert.equal(periodAt(anchor, rec, period.end).start, period.end);
          if (period.start > anchor) assert.equal(periodAt(anchor, rec, period.start - 1).end, period.start);
        },
      ),
    );
  });

  it('boundaries strictly increase and monthly ones land on the anchor day (or the month end)', () => {
    fc.assert(
      fc.property(anchorArb, recurrence, fc.integer({ min: 0, max: 60 }), (anchor, rec, n) => {
        const a = boundary(anchor, rec, n);
        const b = boundary(anchor, rec, n + 1);
        assert.ok(b > a);
        if (rec.interval === 'month' || rec.interval === 'year') {
          const anchorDay = new Date(anchor * 1000).getUTCDate();
          const date = new Date(b * 1000);
          const monthDays = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
          assert.equal(date.getUTCDate(), Math.min(anchorDay, monthDays));
          assert.equal(b % 86_400, anchor % 86_400);
        }
      }),
    );
  });
});
