import { getTableName } from 'drizzle-orm';
import type pg from 'pg';
import type { ClaimedEvent } from './claim.ts';
import { KINDS, type KindName } from './kinds.ts';
import type { EventFacts, RowVersion } from './ordering.ts';

export const objectKeyOf = (
  kind: KindName,
  place: { stripeAccount: string; livemode: boolean },
  id: string,
) => `${kind}|${place.stripeAccount}|${place.livemode}|${id}`;

type VersionRow = {
  id: string;
  stripe_account: string;
  livemode: boolean;
  last_event_id: string | null;
  last_event_created: number;
  deleted: boolean;
};

/** The version evidence of the rows a batch is about, locked until the batch commits. */
export async function loadVersions(
  client: pg.PoolClient,
  facts: EventFacts[],
  byId: Map<string, ClaimedEvent>,
): Promise<Map<string, RowVersion>> {
  const versions = new Map<string, RowVersion>();
  const byKind = new Map<KindName, ClaimedEvent[]>();
  for (const fact of facts) {
    const list = byKind.get(fact.handling.kind) ?? [];
    list.push(byId.get(fact.id) as ClaimedEvent);
    byKind.set(fact.handling.kind, list);
  }
  for (const [kind, events] of byKind) {
    const name = `"${getTableName(KINDS[kind].table)}"`;
    const rows = await client.query<VersionRow>(
      `select id, stripe_account, livemode, last_event_id, last_event_created, deleted from ${name}
       where (id, stripe_account, livemode) in (select * from unnest($1::text[], $2::text[], $3::boolean[]))
       order by id for update`,
      [
        events.map((event) => event.objectId),
        events.map((event) => event.stripeAccount),
        events.map((event) => event.livemode),
      ],
    );
    for (const row of rows.rows)
      versions.set(objectKeyOf(kind, { stripeAccount: row.stripe_account, livemode: row.livemode }, row.id), {
        lastEventId: row.last_event_id,
        lastEventCreated: row.last_event_created,
        deleted: row.deleted,
      });
  }
  return versions;
}
