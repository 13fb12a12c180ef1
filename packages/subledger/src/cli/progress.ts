import cliProgress from 'cli-progress';
import type { OnProgress, SyncProgress } from '../sync/index.ts';

export type ProgressDisplay = { onProgress: OnProgress; stop: () => void };

type Output = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Progress of a backfill or reconcile on stderr (stdout keeps the result): a bar per kind with its rate
 * and ETA on a terminal, plain lines (`backfill: subscription 200/…`) otherwise, e.g. in a log.
 */
export function progressDisplay(
  output: Output = process.stderr,
  now: () => number = Date.now,
): ProgressDisplay {
  return output.isTTY ? barDisplay(output, now) : lineDisplay(output);
}

/** `done/expected`, or `done/…` while Stripe gives no total to expect. */
export function progressLine(progress: SyncProgress): string {
  const of = progress.expected === null ? '…' : String(Math.max(progress.expected, progress.done));
  return `${progress.job}: ${progress.kind} ${progress.done}/${progress.finished ? progress.done : of}${progress.finished ? ' done' : ''}`;
}

function lineDisplay(output: Output): ProgressDisplay {
  return { onProgress: (progress) => void output.write(`${progressLine(progress)}\n`), stop: () => {} };
}

function barDisplay(output: Output, now: () => number): ProgressDisplay {
  const bars = new cliProgress.MultiBar(
    {
      stream: output,
      format: '{job} {kind} [{bar}] {value}/{of} | {rate}/s | ETA {remaining}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = new Map<string, { bar: cliProgress.SingleBar; at: number }>();
  const onProgress = (progress: SyncProgress) => {
    const key = `${progress.job}/${progress.kind}`;
    const entry = started.get(key) ?? { bar: bars.create(1, 0), at: now() };
    started.set(key, entry);
    const seconds = Math.max((now() - entry.at) / 1000, 0.001);
    const rate = progress.done / seconds;
    const total = progress.finished ? progress.done : Math.max(progress.expected ?? 0, progress.done, 1);
    entry.bar.setTotal(total);
    entry.bar.update(progress.done, {
      job: progress.job,
      kind: progress.kind,
      of: progress.finished || progress.expected !== null ? String(total) : '…',
      rate: rate.toFixed(0),
      remaining: etaText(progress, rate),
    });
  };
  return { onProgress, stop: () => bars.stop() };
}

function etaText(progress: SyncProgress, rate: number): string {
  if (progress.finished) return 'done';
  if (progress.expected === null || rate <= 0) return '…';
  const seconds = Math.ceil(Math.max(progress.expected - progress.done, 0) / rate);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
