import { readFileSync } from 'node:fs';

/**
 * Linux's pressure stall information for I/O (`/proc/pressure/io`): the `full` line counts the time in
 * which every task that had work to do was waiting on I/O, in microseconds since boot.
 *
 * Each inbox commit waits for PostgreSQL to flush its WAL to disk. On a shared disk that flush sometimes
 * stalls for tens or hundreds of milliseconds, and a round's acknowledgement p99 then follows the disk
 * rather than the engine: at 500 webhooks/s, the six inbox commits over 40 ms in six rounds each fell
 * in a 100 ms window where this counter grew by 18–69 ms. The bench prints it beside each round, so that
 * such a round can be told from a slow engine.
 */
const IO_PRESSURE = '/proc/pressure/io';

/** The `full` total of a pressure file's text, in microseconds; null when it has none. */
export function fullStallTotal(pressure: string): number | null {
  const full = pressure.split('\n').find((line) => line.startsWith('full '));
  const total = /total=(\d+)/.exec(full ?? '')?.[1];
  return total === undefined ? null : Number(total);
}

function fullStallMicroseconds(): number | null {
  try {
    return fullStallTotal(readFileSync(IO_PRESSURE, 'utf8'));
  } catch {
    // Not Linux, or a kernel built without pressure stall information.
    return null;
  }
}

/** Disk stalls over a run: their total, and the most of it within one `WINDOW_MS` window. */
export type DiskStalls = { totalMs: number; worstWindowMs: number };

/**
 * A run's total alone does not tell many short stalls, which the p99 hardly notices, from one long one,
 * which is the p99; the worst window does.
 */
const WINDOW_MS = 100;

/**
 * Starts watching; the function returned stops and gives the stalls since, or null where the kernel does
 * not report them.
 */
export function watchDiskStalls(): () => DiskStalls | null {
  const start = fullStallMicroseconds();
  let last = start;
  let worstWindow = 0;
  const sample = () => {
    const now = fullStallMicroseconds();
    if (now !== null && last !== null) worstWindow = Math.max(worstWindow, now - last);
    last = now;
  };
  const timer = setInterval(sample, WINDOW_MS).unref();
  return () => {
    clearInterval(timer);
    sample();
    if (start === null || last === null) return null;
    return { totalMs: (last - start) / 1000, worstWindowMs: worstWindow / 1000 };
  };
}
