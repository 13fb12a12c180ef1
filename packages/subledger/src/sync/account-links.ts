import { sql } from 'drizzle-orm';
import type { Db } from '../store/database.ts';
import { accountCustomers, customers } from '../store/schema/mirror.ts';
import { pgArray } from './bulk-upsert.ts';
import { checkoutAccountId, customerAccountId } from './columns.ts';
import { idOf } from './envelope.ts';
import type { ColumnContext } from './kinds.ts';
import type { MirrorWrite } from './mirror-writer.ts';

type Executor = Pick<Db, 'insert' | 'execute'>;

export type Link = {
  accountId: string;
  stripeAccount: string;
  livemode: boolean;
  customerId: string;
  source: LinkSource;
  /** When the statement was made (Unix seconds): the customer's or the checkout session's `created`. */
  statedAt: number;
};

export type LinkSource = 'customer_metadata' | 'checkout_session';

/**
 * The account ↔ customer mapping, from two kinds of statement in Stripe:
 *
 * - A customer's `subledger_account_id` metadata is the authority on that customer. A customer whose
 *   metadata names account X is linked to no other account; one whose metadata names none keeps only a
 *   link a checkout session made.
 * - A completed checkout session naming an account links its customer to it, unless that customer's
 *   metadata names another account (an app's own Checkout on an account's customer may name the buyer).
 *
 * Among the statements for one account (or one customer), the newest wins, ties broken by
 * `compareStatements`, whatever order the objects are written in: a backfill lists them newest first
 * and must end with the links the webhooks made. Returns the links made and the links withdrawn, so
 * that both the accounts gained and the accounts left are told of the change.
 */
export async function linkAccounts(
  db: Executor,
  written: MirrorWrite[],
  context: ColumnContext,
): Promise<Link[]> {
  const claims = customerClaims(written);
  const stated = written.flatMap((write) => statementOf(write, context) ?? []);
  await lockLinksOf(db, [...claims.values()], stated);
  const withdrawn = await withdrawDisowned(
    db,
    [...claims.values()].filter((claim) => !claim.deleted),
  );
  const allowed = await allowedStatements(db, stated, claims);
  const rows = (await withoutOutdated(db, newestOf(allowed))).map(linkOf);
  if (rows.length === 0) return withdrawn;
  const left = await unlinkFromOtherAccounts(db, rows);
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
  return [...withdrawn, ...left, ...rows];
}

/**
 * Takes, until the transaction ends, a lock on each account and customer whose links this batch may
 * change. Links are weighed against the stored ones, which a concurrent batch (another worker, a
 * backfill) may be changing: without the lock both read before either commits, and the later commit
 * wins whatever its statement's age (or fails on the customer's unique index). With it, the second
 * waits, then reads what the first committed. Taken in one order, so two batches cannot deadlock on them.
 */
async function lockLinksOf(db: Executor, claims: CustomerClaim[], statements: Link[]): Promise<void> {
  const keys = new Set([
    ...claims.map((claim) => `customer|${customerKey(claim)}`),
    ...statements.flatMap((link) => [`customer|${customerKey(link)}`, `account|${accountKey(link)}`]),
  ]);
  if (keys.size === 0) return;
  await db.execute(sql`
    select pg_advisory_xact_lock(lock) from (
      select distinct hashtextextended('account_customers|' || key, 0) as lock
      from unnest(${pgArray([...keys])}::text[]) as key order by lock) as ordered`);
}

/** A link weighed against others: also whether the mirror knows its customer is deleted. */
export type Statement = Link & { customerDeleted: boolean };

/**
 * The one order of statements, used in a batch and against stored links alike: the newer `statedAt`
 * wins. In the same second a live customer wins over a deleted one (a customer recreated at once after
 * a deletion takes the account), then the greater customer id, then the greater account id, so that an
 * unrelated update of either of two customers created in one second never moves the account. Last, a
 * checkout session wins over the customer's metadata for the same pair: the session's link outlives a
 * removal of the metadata, as the session still says it.
 */
export function compareStatements(a: Statement, b: Statement): number {
  return (
    a.statedAt - b.statedAt ||
    Number(b.customerDeleted) - Number(a.customerDeleted) ||
    compareText(a.customerId, b.customerId) ||
    compareText(a.accountId, b.accountId) ||
    SOURCE_RANK[a.source] - SOURCE_RANK[b.source]
  );
}

const SOURCE_RANK: Record<LinkSource, number> = { customer_metadata: 0, checkout_session: 1 };

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Of a batch's statements, the newest for each account, then for each customer (`compareStatements`). */
export function newestOf(statements: Statement[]): Statement[] {
  const inOrder = [...statements].sort(compareStatements);
  const byAccount = new Map(inOrder.map((statement) => [accountKey(statement), statement]));
  const byCustomer = new Map([...byAccount.values()].map((statement) => [customerKey(statement), statement]));
  return [...byCustomer.values()];
}

type Placed = { stripeAccount: string; livemode: boolean };

const placeOf = (write: MirrorWrite): Placed => ({
  stripeAccount: write.stripeAccount,
  livemode: write.livemode,
});
const accountKey = (link: Placed & { accountId: string }) =>
  `${link.accountId}|${link.stripeAccount}|${link.livemode}`;
const customerKey = (link: Placed & { customerId: string }) =>
  `${link.customerId}|${link.stripeAccount}|${link.livemode}`;

const linkOf = ({ customerDeleted: _, ...link }: Statement): Link => link;

/** What a customer says of itself: the account its metadata names (or none), and whether it is deleted. */
type CustomerClaim = Placed & { customerId: string; accountId: string | null; deleted: boolean };

function customerClaims(written: MirrorWrite[]): Map<string, CustomerClaim> {
  const claims = new Map<string, CustomerClaim>();
  for (const write of written)
    if (write.kind === 'customer') {
      const claim = {
        ...placeOf(write),
        customerId: write.id,
        accountId: customerAccountId(write.object),
        deleted: write.deleted,
      };
      claims.set(customerKey(claim), claim);
    }
  return claims;
}

/**
 * Deletes the links the written live customers no longer back: to any account but the one their
 * metadata names, and, when it names none, the link their metadata made. (A deleted customer's
 * tombstone withdraws nothing: its link is kept, its billing ended.) Returns the links deleted.
 */
async function withdrawDisowned(db: Executor, claims: CustomerClaim[]): Promise<Link[]> {
  if (claims.length === 0) return [];
  const result = await db.execute(sql`
    delete from ${accountCustomers} a
    using unnest(${pgArray(claims.map((claim) => claim.customerId))}::text[],
                 ${pgArray(claims.map((claim) => claim.stripeAccount))}::text[],
                 ${pgArray(claims.map((claim) => claim.livemode))}::boolean[],
                 ${pgArray(claims.map((claim) => claim.accountId))}::text[]) as c(id, account, livemode, named)
    where a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
      and (a.account_id <> c.named or (c.named is null and a.source = 'customer_metadata'))
    returning a.*`);
  return linksOf(result);
}

/**
 * The statements their customer's metadata allows, weighed: a checkout session may link only a customer
 * whose metadata names no account or the session's. The customer is the batch's, else the mirror's.
 */
async function allowedStatements(
  db: Executor,
  links: Link[],
  claims: Map<string, CustomerClaim>,
): Promise<Statement[]> {
  const mirrored = await mirroredClaims(
    db,
    links.filter((link) => !claims.has(customerKey(link))),
  );
  return links.flatMap((link) => {
    const claim = claims.get(customerKey(link)) ?? mirrored.get(customerKey(link));
    const owner = claim?.accountId ?? null;
    return owner === null || owner === link.accountId
      ? [{ ...link, customerDeleted: claim?.deleted === true }]
      : [];
  });
}

/** The claims of customers the mirror holds, by one join on the customers' key. */
async function mirroredClaims(db: Executor, links: Link[]): Promise<Map<string, CustomerClaim>> {
  if (links.length === 0) return new Map();
  const result = await db.execute(sql`
    select m.id, m.stripe_account, m.livemode, m.deleted, m.data->'metadata' as metadata from ${customers} m
    join unnest(${pgArray(links.map((link) => link.customerId))}::text[],
                ${pgArray(links.map((link) => link.stripeAccount))}::text[],
                ${pgArray(links.map((link) => link.livemode))}::boolean[]) as c(id, account, livemode)
      on m.id = c.id and m.stripe_account = c.account and m.livemode = c.livemode`);
  const claims = rowsOf(result).map((row) => ({
    customerId: String(row.id),
    stripeAccount: String(row.stripe_account),
    livemode: row.livemode === true,
    accountId: customerAccountId({ metadata: row.metadata }),
    deleted: row.deleted === true,
  }));
  return new Map(claims.map((claim) => [customerKey(claim), claim]));
}

/** The statements newer (`compareStatements`) than the stored link of their account and of their customer. */
async function withoutOutdated(db: Executor, statements: Statement[]): Promise<Statement[]> {
  if (statements.length === 0) return statements;
  const accounts = pgArray(statements.map((statement) => statement.stripeAccount));
  const modes = pgArray(statements.map((statement) => statement.livemode));
  // Two joins, each on a unique index (the account's, the customer's): an OR of the two is a scan per link.
  const result = await db.execute(sql`
    with stored as (
      select a.* from ${accountCustomers} a
      join unnest(${pgArray(statements.map((statement) => statement.accountId))}::text[], ${accounts}::text[],
                  ${modes}::boolean[]) as c(id, account, livemode)
        on a.account_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
      union
      select a.* from ${accountCustomers} a
      join unnest(${pgArray(statements.map((statement) => statement.customerId))}::text[], ${accounts}::text[],
                  ${modes}::boolean[]) as c(id, account, livemode)
        on a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode)
    select s.*, coalesce(m.deleted, false) as customer_deleted from stored s
    left join ${customers} m
      on m.id = s.customer_id and m.stripe_account = s.stripe_account and m.livemode = s.livemode`);
  const stored = rowsOf(result).map((row) => ({
    ...linkFrom(row),
    customerDeleted: row.customer_deleted === true,
  }));
  const byAccount = new Map(stored.map((statement) => [accountKey(statement), statement]));
  const byCustomer = new Map(stored.map((statement) => [customerKey(statement), statement]));
  const newerThan = (statement: Statement, held: Statement | undefined) =>
    !held || compareStatements(statement, held) > 0;
  return statements.filter(
    (statement) =>
      newerThan(statement, byAccount.get(accountKey(statement))) &&
      newerThan(statement, byCustomer.get(customerKey(statement))),
  );
}

/**
 * A customer maps to one account: the links' customers leave the accounts they held before. One join on
 * the customer's unique index (a condition per row, OR-ed, would read the whole table). Returns the
 * links deleted.
 */
async function unlinkFromOtherAccounts(db: Executor, links: Link[]): Promise<Link[]> {
  const result = await db.execute(sql`
    delete from ${accountCustomers} a
    using unnest(${pgArray(links.map((link) => link.customerId))}::text[],
                 ${pgArray(links.map((link) => link.stripeAccount))}::text[],
                 ${pgArray(links.map((link) => link.livemode))}::boolean[],
                 ${pgArray(links.map((link) => link.accountId))}::text[]) as c(id, account, livemode, account_id)
    where a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
      and a.account_id <> c.account_id
    returning a.*`);
  return linksOf(result);
}

const rowsOf = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;

/** An `account_customers` row, as the database returns it, to a link. */
const linkFrom = (row: Record<string, unknown>): Link => ({
  accountId: String(row.account_id),
  stripeAccount: String(row.stripe_account),
  livemode: row.livemode === true,
  customerId: String(row.customer_id),
  source: row.source as LinkSource,
  statedAt: Number(row.stated_at),
});

const linksOf = (result: unknown): Link[] => rowsOf(result).map(linkFrom);

/**
 * A customer's statement is dated by its `created`, not by the event that carried it: a backfill reads
 * the same customer at another time and must reach the links the webhooks did. A deleted customer still
 * states its account when its object says it (a `customer.deleted` payload does; Stripe's read of a
 * deleted customer does not): the link outlives the deletion, whether or not the live customer was
 * written before its tombstone (its events claimed in one batch write the deletion alone).
 */
function statementOf(write: MirrorWrite, context: ColumnContext): Link | null {
  const place = placeOf(write);
  const statedAt = Number(write.object.created ?? 0);
  if (write.kind === 'customer') {
    const accountId = customerAccountId(write.object);
    return accountId
      ? { ...place, accountId, customerId: write.id, source: 'customer_metadata', statedAt }
      : null;
  }
  if (write.kind === 'checkout.session' && write.object.status === 'complete') {
    const accountId = checkoutAccountId(write.object, context.accountKeys);
    const customerId = idOf(write.object.customer);
    return accountId && customerId
      ? { ...place, accountId, customerId, source: 'checkout_session', statedAt }
      : null;
  }
  return null;
}
