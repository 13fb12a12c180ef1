import type pg from 'pg';
import type Stripe from 'stripe';
import { type Database, databaseNow, inTransaction } from '../store/index.ts';
import { isMissing } from '../stripe/index.ts';
import {
  ACCOUNT_METADATA_KEY,
  type Answer,
  type ColumnContext,
  customerByMetadata,
  mirrorAnswers,
  type Place,
  requestOptions,
} from '../sync/index.ts';
import { BillingError } from './errors.ts';

/** What every billing action works with: the database, the Stripe client of the place, the mapping. */
export type Billing = {
  database: Database;
  stripe: Stripe;
  place: Place;
  context: ColumnContext;
};

/** The billing context, or 503 `stripe_not_configured` when no Stripe key is configured. */
export function requireBilling(billing: Billing | null): Billing {
  if (!billing)
    throw new BillingError('stripe_not_configured', 'no Stripe key is configured (STRIPE_SECRET_KEY)');
  return billing;
}

/**
 * The account's Stripe customer, created at most once. Concurrent callers for one account queue on a
 * Postgres advisory lock, so the first creates (and links) the customer and the others find the link.
 * With no link, a customer whose metadata names the account is adopted (the link is rebuilt from
 * Stripe); only then is one created, with an idempotency key of the account, so that a creation whose
 * answer was lost is not repeated. `replacing` names a linked customer Stripe no longer has.
 */
export async function ensureCustomer(
  billing: Billing,
  accountId: string,
  replacing?: string,
): Promise<string> {
  const { database, place } = billing;
  return inTransaction(database.pool, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 1))', [
      `customer/${place.stripeAccount}/${place.livemode}/${accountId}`,
    ]);
    const linked = await linkedLiveCustomer(client, accountId, place);
    if (linked && linked !== replacing) return linked;
    const askedAt = await databaseNow(client);
    const adopted = replacing ? null : await customerByMetadata(billing.stripe, accountId, place);
    const customer = adopted
      ? await billing.stripe.customers.retrieve(adopted, {}, requestOptions(place))
      : await createCustomer(billing, accountId, replacing);
    // Written as fetches: the mirror links the customer to the account its metadata names, and the one
    // it replaces is known gone, even when both were created in the same second.
    const replaced = replacing ? await deletedCustomer(billing, replacing) : [];
    await mirrorAnswers(client, billing, [...replaced, { kind: 'customer', result: customer }], askedAt);
    return customer.id;
  });
}

/**
 * Runs a Stripe call with the account's customer. When Stripe answers that the customer does not exist
 * (deleted in the dashboard), a new one is created and linked, and the call is made once more with it.
 */
export async function withCustomer<T>(
  billing: Billing,
  accountId: string,
  call: (customerId: string) => Promise<T>,
): Promise<T> {
  const customerId = await ensureCustomer(billing, accountId);
  try {
    return await call(customerId);
  } catch (error) {
    if (!isMissing(error) || (error as { param?: string }).param !== 'customer') throw error;
    return call(await ensureCustomer(billing, accountId, customerId));
  }
}

function createCustomer(billing: Billing, accountId: string, replacing: string | undefined) {
  const { place } = billing;
  const key = `subledger-customer-${place.livemode ? 'live' : 'test'}-${accountId}${replacing ? `-after-${replacing}` : ''}`;
  return billing.stripe.customers.create(
    { metadata: { [ACCOUNT_METADATA_KEY]: accountId } },
    { ...requestOptions(place), idempotencyKey: key },
  );
}

/** A customer Stripe answered "no such customer" for, as Stripe shows it now, if it shows it at all. */
async function deletedCustomer(billing: Billing, customerId: string): Promise<Answer[]> {
  try {
    const customer = await billing.stripe.customers.retrieve(customerId, {}, requestOptions(billing.place));
    return customer.deleted === true ? [{ kind: 'customer', result: customer }] : [];
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** The linked customer, unless the mirror knows it was deleted. */
async function linkedLiveCustomer(client: pg.PoolClient, accountId: string, place: Place) {
  const { rows } = await client.query<{ customer_id: string }>(
    `select a.customer_id from account_customers a
       left join customers c
         on c.id = a.customer_id and c.stripe_account = a.stripe_account and c.livemode = a.livemode
     where a.account_id = $1 and a.stripe_account = $2 and a.livemode = $3 and not coalesce(c.deleted, false)`,
    [accountId, place.stripeAccount, place.livemode],
  );
  return rows[0]?.customer_id ?? null;
}
