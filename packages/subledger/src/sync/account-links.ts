import { sql } from 'drizzle-orm';
import type { Db } from '../store/database.ts';
import { accountCustomers } from '../store/schema/mirror.ts';
import { pgArray } from './bulk-upsert.ts';
import { customerAccountId } from './columns.ts';
import { idOf } from './envelope.ts';
import { type ColumnContext, KINDS } from './kinds.ts';
import type { MirrorWrite } from './mirror-writer.ts';

type Executor = Pick<Db, 'insert' | 'execute'>;

export type Link = {
  accountId: string;
  stripeAccount: string;
  livemode: boolean;
  customerId: string;
  source: string;
  /** When the statement was made (Unix seconds): the customer's or the checkout session's `created`. */
  statedAt: number;
};

/**
 * The account ↔ customer mapping, from the customer's `subledger_account_id` metadata or a completed
 * checkout session naming the account. The newest statement wins, whatever order the objects are
 * written in (a backfill lists them newest first); a customer maps to one account. Returns the links
 * made.
 */
export async function linkAccounts(
  db: Executor,
  written: MirrorWrite[],
  context: ColumnContext,
): Promise<Link[]> {
  const stated = written.flatMap((write) => linkOf(write, context) ?? []);
  const rows = await withoutOutdated(db, newestOf(stated));
  if (rows.length === 0) return rows;
  // One join on the customer's unique index: a condition per row, OR-ed, would read the whole table.
  await db.execute(sql`
    delete from ${accountCustomers} a
    using unnest(${pgArray(rows.map((link) => link.customerId))}::text[],
                 ${pgArray(rows.map((link) => link.stripeAccount))}::text[],
                 ${pgArray(rows.map((link) => link.livemode))}::boolean[]) as c(id, account, livemode)
    where a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode`);
  await db
    .insert(accountCustomers)
    .values(rows.map((link) => ({ ...link, linkedAt: new Date() })))
    .onConflictDoUpdate({
      target: [accountCustomers.accountId, accountCustomers.stripeAccount, accountCustomers.livemode],
      set: {
        customerId: sql`excluded.customer_id`,
        source: sql`excluded.source`,
        linkedAt: sql`excluded.linked_at`,
        statedAt: sql`excluded.stated_at`,
      },
    });
  return rows;
}

/** Of a batch's statements, the newest for each account, then for each customer (later ones win ties). */
export function newestOf(links: Link[]): Link[] {
  const inOrder = [...links].sort((a, b) => a.statedAt - b.statedAt);
  const byAccount = new Map(inOrder.map((link) => [`${link.accountId}|${placeOf(link)}`, link]));
  const byCustomer = new Map(
    [...byAccount.values()].map((link) => [`${link.customerId}|${placeOf(link)}`, link]),
  );
  return [...byCustomer.values()];
}

const placeOf = (link: Link) => `${link.stripeAccount}|${link.livemode}`;

/** The statements no stored link of their account or customer is newer than. */
async function withoutOutdated(db: Executor, links: Link[]): Promise<Link[]> {
  if (links.length === 0) return links;
  const accounts = pgArray(links.map((link) => link.stripeAccount));
  const modes = pgArray(links.map((link) => link.livemode));
  // Two joins, each on a unique index (the account's, the customer's): an OR of the two is a scan per link.
  const result = await db.execute(sql`
    select 'account|' || a.account_id as key, a.stripe_account, a.livemode, a.stated_at from ${accountCustomers} a
    join unnest(${pgArray(links.map((link) => link.accountId))}::text[], ${accounts}::text[], ${modes}::boolean[])
      as c(id, account, livemode)
      on a.account_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
    union all
    select 'customer|' || a.customer_id, a.stripe_account, a.livemode, a.stated_at from ${accountCustomers} a
    join unnest(${pgArray(links.map((link) => link.customerId))}::text[], ${accounts}::text[], ${modes}::boolean[])
      as c(id, account, livemode)
      on a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode`);
  const stated = new Map<string, number>();
  for (const row of (result as unknown as { rows: Record<string, unknown>[] }).rows)
    stated.set(`${row.key}|${row.stripe_account}|${row.livemode}`, Number(row.stated_at));
  const newest = (key: string, link: Link) => stated.get(`${key}|${placeOf(link)}`) ?? 0;
  return links.filter(
    (link) =>
      newest(`account|${link.accountId}`, link) <= link.statedAt &&
      newest(`customer|${link.customerId}`, link) <= link.statedAt,
  );
}

function linkOf(write: MirrorWrite, context: ColumnContext): Link | null {
  const place = { stripeAccount: write.stripeAccount, livemode: write.livemode };
  const statedAt = Number(write.object.created ?? 0);
  if (write.kind === 'customer' && !write.deleted) {
    const accountId = customerAccountId(write.object);
    return accountId
      ? { ...place, accountId, customerId: write.id, source: 'customer_metadata', statedAt }
      : null;
  }
  if (write.kind === 'checkout.session' && write.object.status === 'complete') {
    const row = KINDS['checkout.session'].columns(write.object, context);
    const customerId = idOf(write.object.customer);
    const accountId = row.accountId as string | null;
    return accountId && customerId
      ? { ...place, accountId, customerId, source: 'checkout_session', statedAt }
      : null;
  }
  return null;
}
