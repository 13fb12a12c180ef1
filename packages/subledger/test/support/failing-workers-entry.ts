/** A workers' thread that starts as `subledger start`'s does, then fails on its own a moment later. */
import { runWorkersInThread } from '../../src/cli/worker-thread.ts';

await runWorkersInThread();
setTimeout(() => {
  throw new Error('a worker fell over');
}, 50);
