import type { Config } from '../config/index.ts';
import { connect, type Database } from './database.ts';
import { startSharedEmbeddedPostgres } from './embedded-shared.ts';

export {
  ACCESS_CHANNEL,
  type AccessChange,
  decodeChanges,
  encodeChanges,
  NOTIFY_CHANGES,
} from './changes.ts';
export { databaseClock, databaseNow } from './clock.ts';
export { connect, type Database, type Db, migrate } from './database.ts';
export { type EmbeddedCluster, startEmbeddedPostgres } from './embedded.ts';
export * as schema from './schema/index.ts';
export { PLATFORM } from './schema/index.ts';
export { inTransaction } from './transaction.ts';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.ts';

/**
 * `DATABASE_URL` when set, else the embedded cluster under the data directory (started on demand, and
 * again when the process that started it stops it; `warn` is told so).
 */
export async function openDatabase(
  config: Config,
  warn: (message: string) => void = (message) => console.error(`subledger: ${message}`),
): Promise<Database & { embedded: boolean }> {
  if (config.databaseUrl) return { ...connect(config.databaseUrl), embedded: false };
  const cluster = await startSharedEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.embeddedPostgresPort,
    database: 'subledger',
    onTakenOver: warn,
  });
  return { ...connect(cluster.url, { onClose: cluster.stop }), embedded: true };
}
