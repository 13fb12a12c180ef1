import type pg from 'pg';
import type Stripe from 'stripe';
import { PLATFORM } from '../store/index.ts';
import { type AccessEvent, deauthorizedAt, isAccessRefused, recordAccess } from './connected-accounts.ts';
import { type Place, requestOptions } from './stripe-reads.ts';

/**
 * Whether a connected account recorded as having revoked the platform's access lets it in again, asked
 * of Stripe with one read (a page of one customer). Stripe says so with `account.application.authorized`,
 * and a missed one would leave the account out of the scheduled reconcile, its reads unfetchable, for
 * ever. A read Stripe answers is as good a word, as of the answer's `Date`: it is recorded like an
 * event, under the read's request id, so a revocation after it still supersedes it and one before it
 * does not. A 403 leaves the record as it is; any other failure is thrown.
 */
export async function accessRestored(db: pg.Pool, stripe: Stripe, place: Place): Promise<boolean> {
  const answered = await stripe.customers.list({ limit: 1 }, requestOptions(place)).catch((error) => {
    if (isAccessRefused(error)) return null;
    throw error;
  });
  if (!answered) return false;
  const { headers, requestId } = answered.lastResponse;
  const granted: AccessEvent = {
    ...place,
    eventId: requestId || 'read',
    authorization: 'authorized',
    created: answerSeconds(headers.date),
  };
  return (await recordAccess(db, [granted])).length > 0;
}

/**
 * For a command run on one place (`backfill` or `reconcile --account`): when the record says its account
 * revoked the platform's access, asks Stripe whether it lets the platform in again (`accessRestored`),
 * so that a run that will succeed also clears the record. False for the platform, an account with
 * access, or one Stripe still refuses (the command's own reads then say so).
 */
export async function accessRestoredIfRevoked(db: pg.Pool, stripe: Stripe, place: Place): Promise<boolean> {
  if (place.stripeAccount === PLATFORM || !(await deauthorizedAt(db, place))) return false;
  return accessRestored(db, stripe, place);
}

/** The time of Stripe's answer, in seconds, from its `Date` header; this host's clock without one. */
function answerSeconds(date: string | undefined): number {
  const parsed = date ? Date.parse(date) : Number.NaN;
  return Math.floor((Number.isNaN(parsed) ? Date.now() : parsed) / 1000);
}
