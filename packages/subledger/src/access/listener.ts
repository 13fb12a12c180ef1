import pg from 'pg';
import { ACCESS_CHANNEL, type AccessChange, decodeChanges } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';

export type ChangeListenerOptions = {
  url: string;
  onChanges: (changes: AccessChange[]) => void;
  /** Told true once LISTEN holds, false when the connection is lost (changes may then be missed). */
  onListening: (listening: boolean) => void;
  logger: Logger;
};

export type ChangeListener = { start: () => Promise<void>; stop: () => Promise<void> };

const RETRY_MS = { first: 100, max: 5_000 };

/**
 * One connection per process that LISTENs for the mirror's change notices, and reconnects (with growing
 * waits) when it is lost.
 */
export function listenForChanges(options: ChangeListenerOptions): ChangeListener {
  let client: pg.Client | null = null;
  let stopped = false;
  let retryMs = RETRY_MS.first;
  let retryTimer: NodeJS.Timeout | undefined;

  const lost = (connection: pg.Client | null, error: unknown) => {
    // A connection already replaced (or never kept) says nothing about the current one.
    if (stopped || client !== connection) return;
    client = null;
    options.onListening(false);
    options.logger.warn({ err: error, retryMs }, 'access cache: change notices lost; reading through');
    retryTimer = setTimeout(() => void connect().catch((error) => lost(client, error)), retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MS.max);
  };

  const connect = async () => {
    const connection = new pg.Client({ connectionString: options.url });
    connection.on('notification', (message) => {
      if (message.channel === ACCESS_CHANNEL && message.payload)
        options.onChanges(decodeChanges(message.payload));
    });
    client = connection;
    connection.on('error', (error) => lost(connection, error));
    connection.on('end', () => lost(connection, new Error('the connection ended')));
    await connection.connect();
    await connection.query(`listen ${ACCESS_CHANNEL}`);
    if (stopped) return;
    retryMs = RETRY_MS.first;
    options.onListening(true);
  };

  return {
    start: connect,
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      options.onListening(false);
      await client?.end().catch(() => {});
      client = null;
    },
  };
}
