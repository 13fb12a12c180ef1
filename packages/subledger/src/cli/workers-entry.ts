/** The module `subledger start` runs in its workers' thread (see `worker-thread.ts`). */
import { runWorkersInThread } from './worker-thread.ts';

await runWorkersInThread();
