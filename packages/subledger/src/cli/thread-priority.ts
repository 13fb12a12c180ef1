import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The highest niceness: the lowest priority the scheduler gives. */
const MAX_NICENESS = 19;

export type LoweredPriority = { threadId: number; niceness: number };

/**
 * Raises the calling thread's niceness by `steps`, leaving the process's other threads as they are.
 * Linux schedules threads apart (`setpriority` takes a thread id there), so the workers' thread yields
 * the cores to the server's thread when both have work: applying events can wait a few milliseconds,
 * a webhook's acknowledgement should not. Returns null where threads cannot be told apart (no
 * `/proc/thread-self`) or the niceness cannot be changed.
 */
export function lowerThreadPriority(steps: number): LoweredPriority | null {
  const threadId = currentThreadId();
  if (threadId === null) return null;
  try {
    const niceness = Math.min(MAX_NICENESS, getPriority(threadId) + steps);
    setPriority(threadId, niceness);
    return { threadId, niceness };
  } catch {
    return null;
  }
}

/** The kernel's id of the calling thread, or null off Linux. */
function currentThreadId(): number | null {
  try {
    return threadIdOfLink(readlinkSync('/proc/thread-self'));
  } catch {
    return null;
  }
}

/** The thread id in the target of `/proc/thread-self`, `<pid>/task/<tid>`; null for anything else. */
export function threadIdOfLink(link: string): number | null {
  const match = /^\d+\/task\/(\d+)$/.exec(link);
  return match ? Number(match[1]) : null;
}
