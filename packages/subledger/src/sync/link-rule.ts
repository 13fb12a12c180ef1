import { checkoutAccountId, customerAccountId } from './columns.ts';
import { idOf } from './envelope.ts';
import type { ColumnContext } from './kinds.ts';
import type { MirrorWrite } from './mirror-writer.ts';

/**
 * The rule of the account ↔ customer mapping, apart from the database (see `linkAccounts`): what a
 * written object states, and which of two statements wins.
 */

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

/** A link weighed against others: also whether the mirror knows its customer is deleted. */
export type Statement = Link & { customerDeleted: boolean };

/**
 * The one order of statements, used in a batch and against stored links alike. A live customer's
 * statement wins over a deleted customer's, whatever their ages: a deleted customer bills no one, so an
 * account one of its live customers still names must not be left to it (billing adopts that customer
 * too). Then the newer `statedAt` wins, then the greater customer id, then the greater account id, so
 * that an unrelated update of either of two customers created in one second never moves the account.
 * Last, a checkout session wins over the customer's metadata for the same pair: the session's link
 * outlives a removal of the metadata, as the session still says it.
 */
export function compareStatements(a: Statement, b: Statement): number {
  return (
    Number(b.customerDeleted) - Number(a.customerDeleted) ||
    a.statedAt - b.statedAt ||
    compareText(a.customerId, b.customerId) ||
    compareText(a.accountId, b.accountId) ||
    SOURCE_RANK[a.source] - SOURCE_RANK[b.source]
  );
}

const SOURCE_RANK: Record<LinkSource, number> = { customer_metadata: 0, checkout_session: 1 };

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Of a batch's statements, the links they make: newest first (`compareStatements`), each statement
 * whose account and customer no newer one took. An account whose newest statement lost its customer to
 * that customer's newer one is linked by its next, as a backfill of the same state links it.
 */
export function newestOf(statements: Statement[]): Statement[] {
  const accounts = new Set<string>();
  const customers = new Set<string>();
  return [...statements]
    .sort((a, b) => compareStatements(b, a))
    .filter((statement) => {
      const account = accountKey(statement);
      const customer = customerKey(statement);
      if (accounts.has(account) || customers.has(customer)) return false;
      accounts.add(account);
      customers.add(customer);
      return true;
    });
}

export type Placed = { stripeAccount: string; livemode: boolean };

const placeOf = (write: MirrorWrite): Placed => ({
  stripeAccount: write.stripeAccount,
  livemode: write.livemode,
});
export const accountKey = (link: Placed & { accountId: string }) =>
  `${link.accountId}|${link.stripeAccount}|${link.livemode}`;
export const customerKey = (link: Placed & { customerId: string }) =>
  `${link.customerId}|${link.stripeAccount}|${link.livemode}`;

export const linkOf = ({ customerDeleted: _, ...link }: Statement): Link => link;

/** A customer, in its place. */
export type CustomerRef = Placed & { customerId: string };

/** Stored links, by account and by customer (keys of `accountKey`, `customerKey`). */
export type StoredLinks = { byAccount: Map<string, Statement>; byCustomer: Map<string, Statement> };

/** The statements newer (`compareStatements`) than the stored link of their account and of their customer. */
export function newerThanStored(statements: Statement[], stored: StoredLinks): Statement[] {
  const newerThan = (statement: Statement, held: Statement | undefined) =>
    !held || compareStatements(statement, held) > 0;
  return statements.filter(
    (statement) =>
      newerThan(statement, stored.byAccount.get(accountKey(statement))) &&
      newerThan(statement, stored.byCustomer.get(customerKey(statement))),
  );
}

/**
 * The customers whose accounts `made` links to another customer, as `stored` held them: each is left
 * with no account, unless `made` links it again.
 */
export function displacedBy(made: Link[], stored: StoredLinks): CustomerRef[] {
  const relinked = new Set(made.map(customerKey));
  return made.flatMap((link) => {
    const held = stored.byAccount.get(accountKey(link));
    if (!held || relinked.has(customerKey(held))) return [];
    return [{ customerId: held.customerId, stripeAccount: held.stripeAccount, livemode: held.livemode }];
  });
}

/** What a customer says of itself: the account its metadata names (or none), and whether it is deleted. */
export type CustomerClaim = Placed & { customerId: string; accountId: string | null; deleted: boolean };

export function customerClaims(written: MirrorWrite[]): Map<string, CustomerClaim> {
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
 * The statements their customer's claim allows, weighed: a checkout session may link only a customer
 * whose metadata names no account or the session's. `claimOf` gives the customer's claim, if known.
 */
export function allowedBy(
  statements: Link[],
  claimOf: (statement: Link) => CustomerClaim | undefined,
): Statement[] {
  return statements.flatMap((statement) => {
    const claim = claimOf(statement);
    const owner = claim?.accountId ?? null;
    return owner === null || owner === statement.accountId
      ? [{ ...statement, customerDeleted: claim?.deleted === true }]
      : [];
  });
}

/**
 * A customer's statement is dated by its `created`, not by the event that carried it: a backfill reads
 * the same customer at another time and must reach the links the webhooks did. A deleted customer still
 * states its account when its object says it (a `customer.deleted` payload does; Stripe's read of a
 * deleted customer does not): the link outlives the deletion, whether or not the live customer was
 * written before its tombstone (its events claimed in one batch write the deletion alone).
 */
export function statementOf(write: MirrorWrite, context: ColumnContext): Link | null {
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
