import type pg from 'pg';
import type { Difference } from './auditor.ts';
import { ACCOUNT_KEY, type ColumnContext, sessionAccount } from './auditor-columns.ts';
import { differingPaths, idOf, valueAt } from './auditor-json.ts';
import { type Partition, type Place, rowsOf, type StoredObject, snapshotsOf } from './auditor-stripe.ts';

/**
 * The account links (`account_customers`: which Stripe customer pays for which app account) that
 * Stripe's state implies, as Subledger documents them (`linkAccounts`):
 * - a live customer whose metadata names an account (`subledger_account_id`) is linked to it;
 * - a completed checkout session naming an account links its customer to it, unless that customer's
 *   metadata names another account;
 * - an account has one customer and a customer one account: among the statements for either, the
 *   newest wins (the customer's or the session's `created`), then the greater customer id, then the
 *   greater account id, then a checkout session over the metadata.
 * A deleted customer keeps the link it had, but it had one only if a live version of it was written
 * before its deletion (a deletion coalesced with its creation, or read back at once, makes none): such
 * a link may be there or not, and is checked only for naming an account the customer once named.
 */

type Link = { customer_id: string; source: 'customer_metadata' | 'checkout_session'; stated_at: number };
type Statement = Link & { account_id: string };

/** Whether an object must be mirrored by now (`audit`'s `require`), so that what it states counts. */
type Required = (kind: string, id: string) => boolean;

/**
 * Each account's link in the mirror against the one Stripe's state implies: missing, unexpected, or
 * different (`customer_id`, `source`, `stated_at`).
 */
export async function compareLinks(
  pool: pg.Pool,
  partition: Partition,
  place: Place,
  context: ColumnContext,
  required: Required,
): Promise<Difference[]> {
  const expected = expectedLinks(partition, context, required);
  const { rows } = await pool.query<Statement>(
    `select account_id, customer_id, source, stated_at::float8 as stated_at from account_customers
     where stripe_account = $1 and livemode = $2`,
    [place.stripeAccount, place.livemode],
  );
  const actual = new Map(rows.map(({ account_id, ...link }) => [account_id, link]));
  const formerly = accountsOfDeletedCustomers(partition, context);
  const differences: Difference[] = [];
  const add = (account: string, problem: Difference['problem'], fields: string[]) =>
    differences.push({ kind: 'account_link', id: account, problem, fields });
  for (const [account, link] of expected) {
    const row = actual.get(account);
    if (!row) add(account, 'missing', [`customer_id: ${link.customer_id}`]);
    else {
      const fields = differingPaths(link, row);
      if (fields.length > 0) add(account, 'different', fields);
    }
  }
  for (const [account, row] of actual)
    if (!expected.has(account) && !formerly.get(row.customer_id)?.has(account))
      add(account, 'unexpected', [`customer_id: ${row.customer_id}`]);
  return differences;
}

/** The link of each account, by account: the statements taken newest first, each while both ends are free. */
function expectedLinks(partition: Partition, context: ColumnContext, required: Required): Map<string, Link> {
  const links = new Map<string, Link>();
  const linkedCustomers = new Set<string>();
  for (const { account_id, ...link } of statements(partition, context, required).sort(newestFirst)) {
    if (links.has(account_id) || linkedCustomers.has(link.customer_id)) continue;
    links.set(account_id, link);
    linkedCustomers.add(link.customer_id);
  }
  return links;
}

function statements(partition: Partition, context: ColumnContext, required: Required): Statement[] {
  const customers = new Map(rowsOf(partition, 'customer').map((customer) => [customer.id, customer]));
  const fromMetadata = [...customers.values()].flatMap((customer): Statement[] => {
    const account = metadataAccount(customer);
    return account && required('customer', customer.id)
      ? [
          {
            account_id: account,
            customer_id: customer.id,
            source: 'customer_metadata',
            stated_at: created(customer),
          },
        ]
      : [];
  });
  const fromCheckouts = completedSessions(partition).flatMap((session): Statement[] => {
    const account = sessionAccount(session, context);
    const customer = customers.get(idOf(session.customer) ?? '');
    if (!account || !customer || !required('checkout.session', session.id)) return [];
    const owner = metadataAccount(customer);
    return owner === null || owner === account
      ? [
          {
            account_id: account,
            customer_id: customer.id,
            source: 'checkout_session',
            stated_at: created(session),
          },
        ]
      : [];
  });
  return [...fromMetadata, ...fromCheckouts];
}

/** Every account a deleted customer named in any version Stripe sent of it, or a checkout of it named. */
function accountsOfDeletedCustomers(partition: Partition, context: ColumnContext): Map<string, Set<string>> {
  const deleted = new Set(rowsOf(partition, 'deleted_customer').map((customer) => customer.id));
  const named = new Map<string, Set<string>>();
  const name = (customer: string, account: string | null) => {
    if (account) named.set(customer, (named.get(customer) ?? new Set()).add(account));
  };
  for (const snapshot of snapshotsOf(partition, deleted)) name(snapshot.id, metadataAccount(snapshot));
  for (const session of completedSessions(partition)) {
    const customer = idOf(session.customer);
    if (customer && deleted.has(customer)) name(customer, sessionAccount(session, context));
  }
  return named;
}

const completedSessions = (partition: Partition) =>
  rowsOf(partition, 'checkout.session').filter((session) => session.status === 'complete');

function metadataAccount(customer: StoredObject): string | null {
  const account = valueAt(customer, ['metadata', ACCOUNT_KEY]);
  return typeof account === 'string' && account !== '' ? account : null;
}

const created = (object: StoredObject) => Number(object.created ?? 0);

const SOURCE_RANK = { customer_metadata: 0, checkout_session: 1 };
const descending = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

function newestFirst(a: Statement, b: Statement): number {
  return (
    b.stated_at - a.stated_at ||
    descending(a.customer_id, b.customer_id) ||
    descending(a.account_id, b.account_id) ||
    SOURCE_RANK[b.source] - SOURCE_RANK[a.source]
  );
}
