import { databaseNow, inTransaction } from '../store/index.ts';
import type { AccountView } from '../sync/account-view.ts';
import {
  checkoutAccountId,
  mirrorAnswers,
  requestOptions,
  type StripeObject,
  syncAccount,
} from '../sync/index.ts';
import { act } from './acting.ts';
import { sessionAnswer } from './checkout.ts';
import type { Billing } from './customers.ts';
import { BillingError } from './errors.ts';

/**
 * The success page's eager sync: reads the checkout session from Stripe, then the state of the
 * account it names, into the mirror now, so that the buyer is never "paid but locked out" while the
 * webhooks are on their way.
 *
 * `authorize` sees the account before anything is written: a caller that may not see it (it throws)
 * causes no work beyond the session's read.
 */
export async function syncCheckout(
  billing: Billing,
  sessionId: string,
  authorize: (accountId: string) => void | Promise<void> = () => {},
): Promise<{ accountId: string; account: AccountView }> {
  return act(async () => {
    const askedAt = await databaseNow(billing.database.pool);
    const session = await retrieveSession(billing, sessionId);
    const accountId = session ? checkoutAccountId(session, billing.context.accountKeys) : null;
    if (!session || !accountId)
      throw new BillingError(
        'checkout_session_not_found',
        `no checkout session ${sessionId} names an account`,
      );
    await authorize(accountId);
    // The session itself too: a paid top-up grants its credits from the mirror's copy.
    await inTransaction(billing.database.pool, (client) =>
      mirrorAnswers(client, billing, [sessionAnswer(session)], askedAt),
    );
    const synced = await syncAccount({ ...billing, accountId });
    if (!synced.ok) throw new BillingError('checkout_session_not_found', synced.message);
    return { accountId, account: synced.account };
  });
}

async function retrieveSession(billing: Billing, sessionId: string): Promise<StripeObject | null> {
  try {
    return (await billing.stripe.checkout.sessions.retrieve(
      sessionId,
      {},
      requestOptions(billing.place),
    )) as unknown as StripeObject;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}
