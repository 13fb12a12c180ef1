import type { MirrorWrite } from '../../src/sync/mirror-writer.ts';
import type { Place } from '../../src/sync/stripe-reads.ts';

/** Mirror writes of the objects that state account links (customers, checkout sessions), as events carry them. */

export const PLATFORM = { stripeAccount: 'platform', livemode: false };
let places = 0;
/** A Stripe account of its own, so that a test's links meet no other test's. */
export const freshPlace = (): Place => ({ stripeAccount: `acct_links_${++places}`, livemode: false });

let eventNumber = 0;

/** A customer as an event carries it: `accountId` null, its metadata names no account. */
export const customerWrite = (
  id: string,
  accountId: string | null,
  created: number,
  version = created,
  place: Place = PLATFORM,
): MirrorWrite => ({
  kind: 'customer',
  id,
  ...place,
  object: { id, object: 'customer', created, metadata: accountId ? { subledger_account_id: accountId } : {} },
  deleted: false,
  version,
  eventId: `evt_${id}_${++eventNumber}`,
  source: 'event',
});

/** A `customer.deleted` event: its payload is the whole customer, metadata and all. */
export const customerDeletedWrite = (
  id: string,
  accountId: string | null,
  created: number,
  version: number,
  place: Place = PLATFORM,
): MirrorWrite => {
  const write = customerWrite(id, accountId, created, version, place);
  return { ...write, object: { ...write.object, deleted: true }, deleted: true };
};

/** Stripe's read of a deleted customer: no more than its id. */
export const deletedCustomerWrite = (id: string, version: number, place: Place = PLATFORM): MirrorWrite => ({
  ...customerWrite(id, null, 0, version, place),
  object: { id, object: 'customer', deleted: true },
  deleted: true,
});

/** A completed checkout session naming the account by `client_reference_id`. */
export const sessionWrite = (
  id: string,
  customer: string,
  accountId: string,
  created: number,
  place: Place = PLATFORM,
): MirrorWrite => ({
  kind: 'checkout.session',
  id,
  ...place,
  object: {
    id,
    object: 'checkout.session',
    status: 'complete',
    customer,
    client_reference_id: accountId,
    created,
  },
  deleted: false,
  version: created,
  eventId: `evt_${id}_${++eventNumber}`,
  source: 'event',
});
