/**
 * The V8 settings the `subledger` process runs with; the bin's `#!` line passes them to node, and the
 * bench's server gets the same. Both exist for the acknowledgement's tail on a small machine.
 *
 * - `--max-semi-space-size=16`: left to grow, V8's young generation reached 134 MB, and with it that
 *   large V8 started a full (mark-compact) collection of the server's heap every ~5 s and of the
 *   workers' thread's every ~2 s, each time its old generation had less room left than the young one.
 *   With 16 MB semi-spaces the server's heap goes without a full collection for tens of seconds.
 * - `--v8-pool-size=1`: a full collection's concurrent marking ran on V8's four helper threads at once,
 *   taking both cores of a two-core machine from the event loop and from PostgreSQL for tens of
 *   milliseconds. One helper leaves the other core to them. The heaps are small (about 25 MB live), so
 *   one helper marks them in time.
 * - `--heap-growing-percent=300`: after a full collection V8 lets the old generation grow to a limit of
 *   1.1–4 times what survived, choosing from its own speed. For the workers' thread it chose about 1.4:
 *   each batch's short-lived rows that outlive two scavenges pushed it over every ~2.5 s (24 MB live,
 *   limit ~34 MB). At 4 times, a 20 s phase at 500 webhooks/s runs with no full collection in either
 *   thread. The price is memory: a heap may grow to four times its live size (up to node's heap limit)
 *   before it is collected.
 *
 * Measured at 500 webhooks/s on two cores (`bench/sync.ts`' steady phase): the slowest acknowledgements
 * came in clusters, each starting at a full collection's marking.
 */
export const NODE_FLAGS = [
  '--max-semi-space-size=16',
  '--v8-pool-size=1',
  '--heap-growing-percent=300',
] as const;

/**
 * The settings of `NODE_FLAGS` this process runs without: a process started as `node bin/subledger.js`
 * rather than through the bin's `#!` line, unless given them in its arguments or `NODE_OPTIONS`.
 */
export function missingNodeFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((flag) => flag.replaceAll('_', '-')));
  return NODE_FLAGS.filter((flag) => !given.has(flag));
}

/** The bin's first line: `env -S` splits the flags from the interpreter's name. */
export const SHEBANG = `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`;
