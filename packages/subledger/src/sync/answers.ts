import { getTableName } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type Stripe from 'stripe';
import { embedsWholeList } from './columns.ts';
import { type ColumnContext, KINDS, type KindName } from './kinds.ts';
import { type MirrorWrite, writeMirror } from './mirror-writer.ts';
import { answered, type Place } from './stripe-reads.ts';
import { fetchVersion, onTestClocksAt } from './test-clocks.ts';
import { objectKeyOf } from './versions.ts';

export type Answer = { kind: KindName; result: object };

export type AnswerTarget = { stripe: Stripe; place: Place; context: ColumnContext };

/**
 * Writes the objects Stripe answered a request with into the mirror now, as fetches, so the next read
 * sees the change at once. Each is versioned by `fetchVersion`: Stripe's clock at the answer, or, for an
 * object on a test clock, the version its row already holds. In a transaction that holds the object's
 * serial key, nothing can slip between that version's read and the write; a transaction it must be, as
 * the links it makes take their locks there (see `linkAccounts`). `askedAt` is when the first of
 * the requests was sent: an answer does not replace a row of its second written since (see
 * `writeMirror`); the events of the change it answers follow anyway.
 */
export async function mirrorAnswers(
  client: pg.PoolClient,
  target: AnswerTarget,
  answers: Answer[],
  askedAt: Date,
): Promise<void> {
  const { stripe, place, context } = target;
  // An answer embedding one page of a list (`has_more`) is not the whole object; its events are, once
  // their fetch has read every page.
  const objects = answers
    .map(({ kind, result }) => ({ kind, ...answered(result) }))
    .filter(({ kind, object }) => embedsWholeList(kind, object));
  const clocked = await onTestClocksAt(
    client,
    stripe,
    place,
    objects.map(({ object }) => object),
  );
  const known = await rowVersions(
    client,
    place,
    objects.filter((_, index) => clocked[index]),
  );
  const writes = objects.map(
    ({ kind, object, version }, index): MirrorWrite => ({
      kind,
      id: String(object.id),
      ...place,
      object,
      // Stripe answers a deleted customer's retrieval with the customer, `deleted: true`.
      deleted: object.deleted === true,
      version: fetchVersion(
        known.get(objectKeyOf(kind, place, String(object.id))) ?? 0,
        version,
        clocked[index] === true,
      ),
      eventId: null,
      source: 'fetch',
      readAt: askedAt,
    }),
  );
  await writeMirror(drizzle(client), writes, context);
}

/** The versions the rows of these objects hold, by object key; one query per kind. */
async function rowVersions(
  client: pg.Pool | pg.PoolClient,
  place: Place,
  objects: { kind: KindName; object: { id?: unknown } }[],
): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const kind of new Set(objects.map((entry) => entry.kind))) {
    const ids = objects.filter((entry) => entry.kind === kind).map((entry) => String(entry.object.id));
    const { rows } = await client.query<{ id: string; last_event_created: string }>(
      `select id, last_event_created from "${getTableName(KINDS[kind].table)}"
       where stripe_account = $1 and livemode = $2 and id = any($3::text[])`,
      [place.stripeAccount, place.livemode, ids],
    );
    for (const row of rows) versions.set(objectKeyOf(kind, place, row.id), Number(row.last_event_created));
  }
  return versions;
}
