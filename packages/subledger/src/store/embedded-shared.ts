import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type EmbeddedCluster, type EmbeddedOptions, startEmbeddedPostgres } from './embedded.ts';

/** Gives up taking the cluster over after this long: a cluster that cannot start says why by then. */
const TAKE_OVER_MS = 60_000;

export type SharedEmbeddedOptions = EmbeddedOptions & {
  /** Told, in one line, that the cluster went and what this process did about it. */
  onTakenOver?: (message: string) => void;
};

/**
 * The embedded cluster, kept serving while this process uses it. Several Subledger processes share one
 * data directory (`npm start`, and a `backfill` beside it): the first starts the cluster and the others
 * join it, and the one that started it stops it when it closes, which ends the others' connections.
 * So a process that joined watches with one idle connection, and when the cluster goes it starts the
 * cluster itself, or joins whichever process did first. The server thus outlives a command started
 * before it; what it refused meanwhile (webhooks answered 503) Stripe delivers again.
 */
export async function startSharedEmbeddedPostgres(options: SharedEmbeddedOptions): Promise<EmbeddedCluster> {
  let cluster = await startEmbeddedPostgres(options);
  let closing = false;
  let watcher: pg.Client | null = null;
  let takingOver: Promise<void> | null = null;

  const watch = async () => {
    if (cluster.owned) return;
    const client = new pg.Client({ connectionString: cluster.url });
    client.on('error', () => {});
    client.once('end', () => {
      watcher = null;
      if (!closing) takingOver = takeOver();
    });
    await client.connect();
    watcher = client;
  };

  const takeOver = async () => {
    const deadline = Date.now() + TAKE_OVER_MS;
    while (!closing) {
      try {
        cluster = await startEmbeddedPostgres(options);
        await watch();
        options.onTakenOver?.(
          cluster.owned
            ? 'embedded PostgreSQL was stopped by the process that started it; started it again here'
            : "embedded PostgreSQL dropped this process's connections; it serves (another process started it again), joined it",
        );
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          options.onTakenOver?.(`embedded PostgreSQL was stopped and could not be started again: ${error}`);
          return;
        }
        await sleep(250);
      }
    }
  };

  await watch();
  return {
    get url() {
      return cluster.url;
    },
    get owned() {
      return cluster.owned;
    },
    stop: async () => {
      closing = true;
      await takingOver;
      await watcher?.end().catch(() => {});
      await cluster.stop();
    },
  };
}
