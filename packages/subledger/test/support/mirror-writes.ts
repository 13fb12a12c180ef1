import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Database } from '../../src/store/index.ts';
import { inTransaction } from '../../src/store/transaction.ts';
import type { StripeObject } from '../../src/sync/envelope.ts';
import type { ColumnContext, KindName } from '../../src/sync/kinds.ts';
import { type MirrorWrite, writeMirror } from '../../src/sync/mirror-writer.ts';
import { missingObject } from '../../src/sync/tombstones.ts';

/** What `writeMirror` is given in these tests: writes of the platform's test mode. */
export const CONTEXT = { accountKeys: ['subledger_account_id'] };
export const PLACE = { stripeAccount: 'platform', livemode: false };
export const MIRRORED_AT = 1_800_000_000;

/**
 * Runs `work` in one transaction, as the engine's writers do: linking accounts rolls back to a savepoint
 * of its own when it must wait for more locks, which needs a transaction.
 */
export const inOneTransaction = <T>(
  database: Pick<Database, 'pool'>,
  work: (db: NodePgDatabase) => Promise<T>,
) => inTransaction(database.pool, (client) => work(drizzle(client)));

/** Writes into the mirror in one transaction, as the worker and the refetcher do. */
export const writeInTransaction = (
  database: Pick<Database, 'pool'>,
  writes: MirrorWrite[],
  context: ColumnContext = CONTEXT,
) => inOneTransaction(database, (db) => writeMirror(db, writes, context));

/** What the worker writes for an event carrying `object`. */
export const fromEvent = (
  kind: KindName,
  object: StripeObject,
  options: { deleted?: boolean; version?: number } = {},
): MirrorWrite => ({
  kind,
  id: String(object.id),
  ...PLACE,
  object,
  deleted: options.deleted ?? false,
  version: options.version ?? MIRRORED_AT,
  eventId: `evt_${object.id}`,
  source: 'event',
});

/** What a refetch or a reconcile writes when Stripe answers 404 for the object. */
export const missingOnRead = (
  kind: KindName,
  id: string,
  version = MIRRORED_AT + 100,
  readAt = new Date(),
): MirrorWrite => ({
  kind,
  id,
  ...PLACE,
  object: missingObject(kind, id),
  deleted: true,
  version,
  eventId: null,
  source: 'fetch',
  readAt,
});
