import type pg from 'pg';
import type Stripe from 'stripe';
import { LIVE_STATUSES } from '../access/index.ts';
import type { Catalog } from '../catalog/index.ts';
import { formatTopUp } from '../credits/index.ts';
import { databaseNow, inTransaction } from '../store/index.ts';
import {
  ACCOUNT_METADATA_KEY,
  type Answer,
  mirrorAnswers,
  requestOptions,
  type StripeObject,
  TOP_UP_METADATA_KEY,
} from '../sync/index.ts';
import { act, derivedKey } from './acting.ts';
import { type Billing, withCustomer } from './customers.ts';
import { BillingError } from './errors.ts';
import { type PriceChoice, type ResolvedPrice, resolvePrice } from './prices.ts';

export type CheckoutRequest = PriceChoice & {
  accountId: string;
  /** `subscription` (a plan) or `payment` (a one-time purchase, such as a credit top-up). */
  mode?: 'subscription' | 'payment';
  quantity?: number;
  /** Days of trial; default the catalog plan's. 0: none. */
  trialDays?: number;
  successUrl: string;
  cancelUrl: string;
  metadata?: Record<string, string>;
  /** With `mode: payment`: the credits each unit buys, granted once the payment succeeds. */
  topUp?: { creditType: string; amount: number };
  /** The client's `Idempotency-Key`; absent, one is derived from the request. */
  idempotencyKey?: string;
};

export type CheckoutResult = {
  sessionId: string;
  url: string;
  customerId: string;
  /** True when an open session of this same purchase was handed out again instead of a new one. */
  reused: boolean;
};

/** A session that expires within this long is not handed out again. */
const REUSE_MARGIN_SECONDS = 10 * 60;

/**
 * A Stripe Checkout session for an account. Everything happens under an advisory lock of the account,
 * so concurrent requests for one account run one after another: the first creates the session (and the
 * customer), the next ones get the same open session back. A subscription checkout is refused with
 * `subscription_exists` when the account already has a live subscription (that is a plan change), and
 * any other open subscription session of the account is expired first, so at most one can complete.
 */
export async function startCheckout(
  billing: Billing,
  catalog: Catalog,
  request: CheckoutRequest,
): Promise<CheckoutResult> {
  const mode = request.mode ?? 'subscription';
  return act(async () => {
    const price = await resolvePrice(billing, catalog, request);
    if (price.recurring !== (mode === 'subscription'))
      throw new BillingError(
        'price_mode_mismatch',
        mode === 'subscription'
          ? 'a subscription needs a recurring price'
          : 'a payment needs a one-time price',
        request.plan !== undefined ? 'plan' : 'price',
      );
    if (request.topUp) checkTopUp(catalog, request.topUp, mode);
    return await withCustomer(billing, request.accountId, (customerId) =>
      inTransaction(billing.database.pool, async (client) => {
        await client.query('select pg_advisory_xact_lock(hashtextextended($1, 2))', [
          `checkout/${billing.place.stripeAccount}/${billing.place.livemode}/${request.accountId}`,
        ]);
        return checkoutUnderLock(billing, client, { request, mode, price, customerId });
      }),
    );
  });
}

type Locked = {
  request: CheckoutRequest;
  mode: 'subscription' | 'payment';
  price: ResolvedPrice;
  customerId: string;
};

async function checkoutUnderLock(
  billing: Billing,
  client: pg.PoolClient,
  locked: Locked,
): Promise<CheckoutResult> {
  const { request, mode, price, customerId } = locked;
  const quantity = request.quantity ?? 1;
  if (mode === 'subscription' && (await hasLiveSubscription(client, billing, customerId)))
    throw new BillingError(
      'subscription_exists',
      `account ${request.accountId} already has a live subscription; change its plan instead`,
    );
  const topUp = request.topUp && formatTopUp(request.topUp.creditType, request.topUp.amount * quantity);
  const purchase = `${mode}:${price.id}:${quantity}${topUp ? `:${topUp}` : ''}`;
  const open = await openSessions(client, billing, customerId, mode);
  const same = open.find((session) => sessionPurchase(session) === purchase);
  if (same) return resultOf(same, customerId, true);
  // Only one subscription checkout of an account may complete: the others are closed before a new one opens.
  const askedAt = await databaseNow(client);
  const expired = mode === 'subscription' ? await expireAll(billing, open) : [];
  const session = await createSession(billing, { ...locked, quantity, purchase, topUp });
  await mirrorAnswers(client, billing, [...expired, session].map(sessionAnswer), askedAt);
  return resultOf(session, customerId, false);
}

function createSession(
  billing: Billing,
  locked: Locked & { quantity: number; purchase: string; topUp: string | undefined },
) {
  const { request, mode, price, customerId, quantity, purchase, topUp } = locked;
  const metadata = {
    ...request.metadata,
    ...accountKeysFor(request, billing.context.accountKeys),
    [ACCOUNT_METADATA_KEY]: request.accountId,
    subledger_purchase: purchase,
    ...(topUp ? { [TOP_UP_METADATA_KEY]: topUp } : {}),
  };
  const trialDays = request.trialDays ?? price.trialDays;
  const params: Stripe.Checkout.SessionCreateParams = {
    mode,
    customer: customerId,
    client_reference_id: request.accountId,
    line_items: [{ price: price.id, quantity }],
    success_url: request.successUrl,
    cancel_url: request.cancelUrl,
    metadata,
    ...(mode === 'subscription'
      ? {
          subscription_data: {
            metadata: { [ACCOUNT_METADATA_KEY]: request.accountId },
            ...(trialDays > 0 ? { trial_period_days: trialDays } : {}),
          },
        }
      : {}),
  };
  return billing.stripe.checkout.sessions.create(params, {
    ...requestOptions(billing.place),
    idempotencyKey: request.idempotencyKey ?? derivedKey('checkout', params),
  });
}

/**
 * The configured account keys (`SUBLEDGER_ACCOUNT_KEYS`) the request's metadata holds, set to the
 * request's account. The session is for `account_id`, the account the caller was authorized for (a JWT
 * names its own): a key naming another account would tell every reader of that key (the app's own
 * webhook code, reports) that the purchase is someone else's. Overwritten rather than refused: the
 * metadata is the app's free-form data, often built once for all its calls, and the mirror reads
 * `subledger_account_id` first anyway, so the overwrite only keeps every reader agreeing with it.
 */
function accountKeysFor(request: CheckoutRequest, accountKeys: readonly string[]) {
  const held = accountKeys.filter((key) => request.metadata?.[key] !== undefined);
  return Object.fromEntries(held.map((key) => [key, request.accountId]));
}

function checkTopUp(catalog: Catalog, topUp: { creditType: string; amount: number }, mode: string) {
  if (mode !== 'payment')
    throw new BillingError('invalid_top_up', 'credits are bought with mode: payment', 'credits');
  if (catalog.features[topUp.creditType]?.type !== 'credits')
    throw new BillingError(
      'invalid_top_up',
      `${topUp.creditType} is not a credits feature of the catalog`,
      'credits.feature',
    );
  if (!(Number.isSafeInteger(topUp.amount) && topUp.amount > 0))
    throw new BillingError('invalid_top_up', 'credits must be a positive whole number', 'credits.amount');
}

async function hasLiveSubscription(client: pg.PoolClient, billing: Billing, customerId: string) {
  const { rows } = await client.query(
    `select 1 from subscriptions
     where customer_id = $1 and stripe_account = $2 and livemode = $3 and not deleted and status = any($4::text[])
     limit 1`,
    [customerId, billing.place.stripeAccount, billing.place.livemode, [...LIVE_STATUSES]],
  );
  return rows.length > 0;
}

async function openSessions(client: pg.PoolClient, billing: Billing, customerId: string, mode: string) {
  const { rows } = await client.query<{ data: StripeObject }>(
    `select data from checkout_sessions
     where customer_id = $1 and stripe_account = $2 and livemode = $3 and status = 'open' and mode = $4
       and (data->>'expires_at')::bigint > $5`,
    [
      customerId,
      billing.place.stripeAccount,
      billing.place.livemode,
      mode,
      Math.floor(Date.now() / 1000) + REUSE_MARGIN_SECONDS,
    ],
  );
  return rows.map((row) => row.data);
}

const sessionPurchase = (session: StripeObject) =>
  (session.metadata as Record<string, string> | null | undefined)?.subledger_purchase;

async function expireAll(billing: Billing, sessions: StripeObject[]) {
  const expired: StripeObject[] = [];
  for (const session of sessions)
    expired.push(
      (await billing.stripe.checkout.sessions.expire(
        session.id as string,
        {},
        { ...requestOptions(billing.place), idempotencyKey: derivedKey('expire', { session: session.id }) },
      )) as unknown as StripeObject,
    );
  return expired;
}

function resultOf(
  session: StripeObject | Stripe.Checkout.Session,
  customerId: string,
  reused: boolean,
): CheckoutResult {
  return { sessionId: session.id as string, url: String(session.url), customerId, reused };
}

/** A checkout session Stripe answered with, to write into the mirror. */
export const sessionAnswer = (session: StripeObject | Stripe.Checkout.Session): Answer => ({
  kind: 'checkout.session',
  result: session,
});
