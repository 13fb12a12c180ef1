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
 *
 * Measured at 500 webhooks/s on two cores (`bench/sync.ts`' steady phase): the slowest acknowledgements
 * came in clusters, each starting at a full collection's marking.
 */
export const NODE_FLAGS = ['--max-semi-space-size=16', '--v8-pool-size=1'] as const;

/** The bin's first line: `env -S` splits the flags from the interpreter's name. */
export const SHEBANG = `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`;
