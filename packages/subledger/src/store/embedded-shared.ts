import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type EmbeddedCluster, type EmbeddedOptions, startEmbeddedPostgres } from './embedded.ts';

/** Gives up taking the cluster over after this long: a cluster that cannot start says why by then. */
const TAKE_OVER_MS = 60_000;

export type SharedEmbeddedOptions = EmbeddedOptions & {
  /** Told, in one line, that the cluster went and what this process did about it. */
  onTakenOver?: (message: string) => void;
};

/** How the cluster went: the server this process started exited, or the one it joined dropped it. */
type Gone = 'exited' | 'dropped';

const TAKEN_OVER_LINES: Record<Gone, Record<'owned' | 'joined', string>> = {
  dropped: {
    owned: 'embedded PostgreSQL was stopped by the process that started it; started it again here',
    joined:
      "embedded PostgreSQL dropped this process's connections; it serves (another process started it again), joined it",
  },
  exited: {
    owned: 'the embedded PostgreSQL server this process started exited; started it again here',
    joined:
      'the embedded PostgreSQL server this process started exited; another process started it again, joined it',
  },
};

/**
 * A server asked to shut down by someone else is left down: Ctrl-C reaches the server with its
 * starter's process group (which is shutting down too), or an operator stopped it on purpose.
 */
const SHUT_DOWN_FROM_OUTSIDE =
  'the embedded PostgreSQL server this process started was shut down from outside (Ctrl-C reaches it ' +
  'too, or pg_ctl stop); not started again';

/**
 * The embedded cluster, kept serving while this process uses it. Several Subledger processes share one
 * data directory (`npm start`, and a `backfill` beside it): the first starts the cluster and the others
 * join it, and the one that started it stops it when it closes, which ends the others' connections.
 * So a process that joined watches with one idle connection, and when the cluster goes it starts the
 * cluster itself, or joins whichever process did first. The server thus outlives a command started
 * before it; what it refused meanwhile (webhooks answered 503) Stripe delivers again. The process that
 * started the server does the same when the server crashes or is killed; one that was shut down (it
 * exited 0) is left down.
 */
export async function startSharedEmbeddedPostgres(options: SharedEmbeddedOptions): Promise<EmbeddedCluster> {
  let cluster = await startEmbeddedPostgres(options);
  let closing = false;
  let watcher: pg.Client | null = null;
  let takingOver: Promise<void> | null = null;

  /** Until the cluster goes: the server this process started exits, or the one it joined drops it. */
  const watch = async () => {
    const onGone = (cause: Gone) => {
      if (!closing) takingOver = takeOver(cause);
    };
    if (cluster.exited) {
      void cluster.exited.then((exit) => {
        if (exit.crashed) onGone('exited');
        else if (!closing) options.onTakenOver?.(SHUT_DOWN_FROM_OUTSIDE);
      });
      return;
    }
    const client = new pg.Client({ connectionString: cluster.url });
    client.on('error', () => {});
    client.once('end', () => {
      watcher = null;
      onGone('dropped');
    });
    await client.connect();
    watcher = client;
  };

  const takeOver = async (cause: Gone) => {
    const deadline = Date.now() + TAKE_OVER_MS;
    while (!closing) {
      try {
        cluster = await startEmbeddedPostgres(options);
        await watch();
        options.onTakenOver?.(TAKEN_OVER_LINES[cause][cluster.owned ? 'owned' : 'joined']);
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
