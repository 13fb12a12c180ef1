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
  kind: KindName;
  id: string;
  stripe_account: string;
  livemode: boolean;
  last_event_id: string | null;
  last_event_created: number;
  deleted: boolean;
};

/** The version evidence of the rows a batch is about, locked until the batch commits; one query. */
export async function loadVersions(
  client: pg.PoolClient,
  facts: EventFacts[],
  byId: Map<string, ClaimedEvent>,
): Promise<Map<string, RowVersion>> {
  const byKind = new Map<KindName, ClaimedEvent[]>();
  for (const fact of facts) {
    const list = byKind.get(fact.handling.kind) ?? [];
    list.push(byId.get(fact.id) as ClaimedEvent);
    byKind.set(fact.handling.kind, list);
  }
  const parameters: unknown[] = [];
  // Kinds in one order, whatever the batch's: the same set of kinds is then the same statement, which
  // the connection has prepared.
  const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b));
  const locks = kinds.map(([kind, events], index) => {
    parameters.push(
      kind,
      events.map((event) => event.objectId),
      events.map((event) => event.stripeAccount),
      events.map((event) => event.livemode),
    );
    const [k, ids, accounts, modes] = [1, 2, 3, 4].map((n) => `$${index * 4 + n}`);
    return `k${index} as (
      select ${k}::text as kind, id, stripe_account, livemode, last_event_id, last_event_created, deleted
      from "${getTableName(KINDS[kind].table)}"
      where (id, stripe_account, livemode) in (select * from unnest(${ids}::text[], ${accounts}::text[], ${modes}::boolean[]))
      order by id for update)`;
  });
  if (locks.length === 0) return new Map();
  const union = locks.map((_, index) => `select * from k${index}`).join(' union all ');
  const { rows } = await client.query<VersionRow>(`with ${locks.join(', ')} ${union}`, parameters);
  return new Map(
    rows.map((row) => [
      objectKeyOf(row.kind, { stripeAccount: row.stripe_account, livemode: row.livemode }, row.id),
      { lastEventId: row.last_event_id, lastEventCreated: row.last_event_created, deleted: row.deleted },
    ]),
  );
}
