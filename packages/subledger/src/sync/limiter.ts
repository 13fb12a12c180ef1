import pThrottle from 'p-throttle';
import { withRequestSlots } from '../stripe/client.ts';

/**
 * Runs a Stripe call when the shared budget allows. One limiter is passed to every reader of a job, so
 * the whole job — pages, per-customer reads, confirmations — stays under one requests-per-second cap.
 */
export type Limiter = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * A limiter of `requestsPerSecond` HTTP requests, never exceeded in any one-second window (p-throttle's
 * strict mode; it spaces the times it schedules, so a late timer can bring two requests a few ms closer:
 * 997 ms apart at worst in a run of reconcile at 3/s). A call starts with one slot; each further request
 * it sends through a client of `createStripeClient` (the SDK's retries, a 429's, the pages of an
 * auto-paginated list) takes another.
 */
export function createLimiter(requestsPerSecond: number): Limiter {
  if (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 1)
    throw new RangeError(`requestsPerSecond must be a positive integer, not ${requestsPerSecond}`);
  const throttle = pThrottle({ limit: requestsPerSecond, interval: 1000, strict: true });
  const slot = throttle(async () => undefined);
  return async <T>(call: () => Promise<T>) => {
    await slot();
    return withRequestSlots(slot, call);
  };
}
