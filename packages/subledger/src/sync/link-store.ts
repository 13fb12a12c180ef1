import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../store/database.ts';
import { accountCustomers, checkoutSessions, customers } from '../store/schema/mirror.ts';
import { pgArray, writeTogether } from './bulk-upsert.ts';
import {
  accountKey,
  type CustomerClaim,
  type CustomerRef,
  customerKey,
  type Link,
  type LinkSource,
  type Placed,
  type StoredLinks,
} from './link-rule.ts';

/** The statements `account_customers` holds, and the mirror rows that state links (see `linkAccounts`). */

export type Executor = Pick<Db, 'insert' | 'execute'>;

type AccountRef = Placed & { accountId: string };

/**
 * The relation `c(id, account, livemode, named)` of one row per ref: `id` what `idOf` gives, `named` the
 * account `namedOf` gives (or null). Joined to a table on its key's index, it reads one row per ref.
 */
function refRows<Ref extends Placed>(
  refs: Ref[],
  idOf: (ref: Ref) => string,
  namedOf: (ref: Ref) => string | null = () => null,
) {
  return sql`unnest(${pgArray(refs.map(idOf))}::text[], ${pgArray(refs.map((ref) => ref.stripeAccount))}::text[],
                    ${pgArray(refs.map((ref) => ref.livemode))}::boolean[], ${pgArray(refs.map(namedOf))}::text[])
             as c(id, account, livemode, named)`;
}

/** The keys of the link locks of these accounts and customers, once each. */
export const linkLockKeys = (accounts: AccountRef[], customers: CustomerRef[]): string[] => [
  ...new Set([
    ...accounts.map((account) => `account|${accountKey(account)}`),
    ...customers.map((customer) => `customer|${customerKey(customer)}`),
  ]),
];

const lockOf = (key: SQL) => sql`hashtextextended('account_customers|' || ${key}, 0)`;

/**
 * Takes, until the transaction ends, a lock on each account and customer whose links may change. Links
 * are weighed against the stored ones, which a concurrent batch (another worker, a backfill) may be
 * changing: without the lock both read before either commits, and the later commit wins whatever its
 * statement's age (or fails on the customer's unique index). With it, the second waits, then reads what
 * the first committed. Taken in one order, by a transaction that holds no other link lock, so two
 * transactions waiting here cannot deadlock on them (see `linkAccounts` for the locks taken later).
 */
export async function lockLinks(db: Executor, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(sql`
    select pg_advisory_xact_lock(lock) from (
      select distinct ${lockOf(sql.raw('key'))} as lock
      from unnest(${pgArray(keys)}::text[]) as key order by lock) as ordered`);
}

/**
 * Takes those of the locks no other transaction holds, without waiting for the others (a lock this
 * transaction holds already is taken again). Returns whether it holds them all.
 */
export async function tryLockLinks(db: Executor, keys: string[]): Promise<boolean> {
  if (keys.length === 0) return true;
  const result = await db.execute(sql`
    select count(*) filter (where not pg_try_advisory_xact_lock(${lockOf(sql.raw('key'))}))::int as held
    from unnest(${pgArray(keys)}::text[]) as key`);
  return Number(rowsOf(result)[0]?.held) === 0;
}

/**
 * Deletes the links the written customers no longer back: to any account but the one their
 * metadata names, and, when it names none, the link their metadata made. (A deleted customer keeps
 * the link its last known metadata backs, its billing ended.) Returns the links deleted, and, read
 * in the same statement, the checkout sessions of those customers that may link anew now that their
 * metadata changed (see `sessionsOfCustomers`).
 */
export async function withdrawDisowned(
  db: Executor,
  claims: CustomerClaim[],
): Promise<{ withdrawn: Link[]; reopened: Link[] }> {
  if (claims.length === 0) return { withdrawn: [], reopened: [] };
  const [withdrawn = [], reopened = []] = await writeTogether(db, [
    unlinkFromOthers(claims, (claim) => claim.accountId),
    sessionsNotHeld(claims),
  ]);
  return { withdrawn: withdrawn.map(linkFrom), reopened: reopened.map(linkFrom) };
}

/**
 * Deletes each customer's links to any account but the one `namedOf` names; one that names none loses
 * the link its metadata made. Returns the links deleted.
 */
function unlinkFromOthers<Ref extends CustomerRef>(refs: Ref[], namedOf: (ref: Ref) => string | null): SQL {
  return sql`
    delete from ${accountCustomers} a
    using ${refRows(refs, (ref) => ref.customerId, namedOf)}
    where a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
      and (a.account_id <> c.named or (c.named is null and a.source = 'customer_metadata'))
    returning a.*`;
}

/** The links these customers hold, by one join on the customer's unique index. */
export async function linksHeldBy(db: Executor, refs: CustomerRef[]): Promise<Link[]> {
  if (refs.length === 0) return [];
  return linksOf(
    await db.execute(sql`
      select a.* from ${accountCustomers} a
      join ${refRows(refs, (ref) => ref.customerId)}
        on a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode`),
  );
}

/** The claims of customers the mirror holds, by one join on the customers' key. */
export async function mirroredClaims(db: Executor, refs: CustomerRef[]): Promise<Map<string, CustomerClaim>> {
  if (refs.length === 0) return new Map();
  const result = await db.execute(sql`
    select m.id, m.stripe_account, m.livemode, m.deleted, m.account_id from ${customers} m
    join ${refRows(refs, (ref) => ref.customerId)}
      on m.id = c.id and m.stripe_account = c.account and m.livemode = c.livemode`);
  const claims = rowsOf(result).map((row) => ({
    customerId: String(row.id),
    stripeAccount: String(row.stripe_account),
    livemode: row.livemode === true,
    accountId: row.account_id === null ? null : String(row.account_id),
    deleted: row.deleted === true,
  }));
  return new Map(claims.map((claim) => [customerKey(claim), claim]));
}

/** The links stored for the accounts and the customers of `links`, by account and by customer. */
export async function storedLinks(db: Executor, links: Link[]): Promise<StoredLinks> {
  if (links.length === 0) return { byAccount: new Map(), byCustomer: new Map() };
  // Two joins, each on a unique index (the account's, the customer's): an OR of the two is a scan per link.
  const result = await db.execute(sql`
    with stored as (
      select a.* from ${accountCustomers} a
      join ${refRows(links, (link) => link.accountId)}
        on a.account_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode
      union
      select a.* from ${accountCustomers} a
      join ${refRows(links, (link) => link.customerId)}
        on a.customer_id = c.id and a.stripe_account = c.account and a.livemode = c.livemode)
    select s.*, coalesce(m.deleted, false) as customer_deleted from stored s
    left join ${customers} m
      on m.id = s.customer_id and m.stripe_account = s.stripe_account and m.livemode = s.livemode`);
  const stored = rowsOf(result).map((row) => ({
    ...linkFrom(row),
    customerDeleted: row.customer_deleted === true,
  }));
  return {
    byAccount: new Map(stored.map((statement) => [accountKey(statement), statement])),
    byCustomer: new Map(stored.map((statement) => [customerKey(statement), statement])),
  };
}

/**
 * Stores the links: each replaces its account's. A customer maps to one account, so the links'
 * customers first leave the accounts they held before, by one join on the customer's unique index (a
 * condition per row, OR-ed, would read the whole table). Returns the links deleted.
 */
export async function saveLinks(db: Executor, links: Link[]): Promise<Link[]> {
  if (links.length === 0) return [];
  const left = linksOf(await db.execute(unlinkFromOthers(links, (link) => link.accountId)));
  await db
    .insert(accountCustomers)
    .values(links.map((link) => ({ ...link, linkedAt: new Date() })))
    .onConflictDoUpdate({
      target: [accountCustomers.accountId, accountCustomers.stripeAccount, accountCustomers.livemode],
      set: {
        customerId: sql`excluded.customer_id`,
        source: sql`excluded.source`,
        linkedAt: sql`excluded.linked_at`,
        statedAt: sql`excluded.stated_at`,
      },
    });
  return left;
}

/**
 * Every statement the mirror holds naming these accounts: the customers whose metadata names one (a
 * deleted customer's row keeps the metadata it last had), and the completed checkout sessions naming
 * one, each by its account index.
 */
export async function statementsNaming(db: Executor, accounts: AccountRef[]): Promise<Link[]> {
  if (accounts.length === 0) return [];
  const named = refRows(accounts, (account) => account.accountId);
  const result = await db.execute(sql`
    select m.account_id, m.stripe_account, m.livemode, m.id as customer_id,
           'customer_metadata' as source, coalesce((m.data->>'created')::bigint, 0) as stated_at
    from ${customers} m join ${named}
      on m.account_id = c.id and m.stripe_account = c.account and m.livemode = c.livemode
    union all
    ${sessionStatements(sql`s.account_id = c.id`, named)}`);
  return linksOf(result);
}

/**
 * The statements of the completed checkout sessions the mirror holds for these customers, by their
 * customer index, but for those whose account holds that customer already: a customer's metadata that
 * changed may no longer refuse them, and a customer that lost its account may fall back on them.
 */
export async function sessionsOfCustomers(db: Executor, customers: CustomerRef[]): Promise<Link[]> {
  if (customers.length === 0) return [];
  return linksOf(await db.execute(sessionsNotHeld(customers)));
}

const sessionsNotHeld = (customers: CustomerRef[]) => sql`
    ${sessionStatements(
      sql`s.customer_id = c.id`,
      refRows(customers, (customer) => customer.customerId),
    )}
    and not exists (
      select 1 from ${accountCustomers} a
      where a.account_id = s.account_id and a.stripe_account = s.stripe_account
        and a.livemode = s.livemode and a.customer_id = s.customer_id)`;

/** The statements of completed checkout sessions joined to `refs` on `matched` and the session's place. */
const sessionStatements = (matched: SQL, refs: SQL) => sql`
    select s.account_id, s.stripe_account, s.livemode, s.customer_id,
           'checkout_session' as source, coalesce((s.data->>'created')::bigint, 0) as stated_at
    from ${checkoutSessions} s join ${refs}
      on ${matched} and s.stripe_account = c.account and s.livemode = c.livemode
    where s.status = 'complete' and s.customer_id is not null and s.account_id is not null`;

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
