import type Stripe from 'stripe';
import { API_VERSION } from '../../src/stripe/index.ts';
import type { InboxEvent, StripeObject } from '../../src/sync/envelope.ts';
import { toInboxEvent } from '../../src/sync/envelope.ts';

/**
 * Stripe as a timeline of customers: its clock runs on in whole seconds, and each change to a customer
 * is one event created at the current second, so several changes may share a second. Changes are
 * numbered across all customers; a customer's state is the number of its latest change, so a mirror row
 * holding an older state holds a smaller number.
 */

export const TIMELINE_START_S = 1_700_000_000;
export const OLD_API_VERSION = '2020-08-27';

export type Change = {
  number: number;
  customerId: string;
  type: 'customer.created' | 'customer.updated' | 'customer.deleted';
  created: number;
  apiVersion: string;
};

/** A mirror row as far as the timeline can tell which state it holds. */
export type HeldRow = { deleted: boolean; name: string | null };

/** No state: the customer has no row, or does not exist yet. */
export const NO_STATE = -1;

export class StripeTimeline {
  nowS = TIMELINE_START_S;
  readonly changes: Change[] = [];

  tick(seconds: number): void {
    this.nowS += seconds;
  }

  /**
   * Changes a customer now: its first change creates it; a deleted customer's id is never used again,
   * so it changes no more (returns null).
   */
  change(customerId: string, options: { deletes: boolean; oldApi: boolean }): Change | null {
    const latest = this.latestOf(customerId);
    if (latest?.type === 'customer.deleted') return null;
    const type = !latest ? 'customer.created' : options.deletes ? 'customer.deleted' : 'customer.updated';
    const change: Change = {
      number: this.changes.length,
      customerId,
      type,
      created: this.nowS,
      apiVersion: options.oldApi ? OLD_API_VERSION : API_VERSION,
    };
    this.changes.push(change);
    return change;
  }

  latestOf(customerId: string): Change | undefined {
    return this.changes.findLast((change) => change.customerId === customerId);
  }

  /** The state Stripe holds now, as a change number. */
  stateOf(customerId: string): number {
    return this.latestOf(customerId)?.number ?? NO_STATE;
  }

  /** Which state a mirror row holds: a deleted row, the deletion (the last state a customer has). */
  stateHeldBy(customerId: string, row: HeldRow | undefined): number {
    if (!row) return NO_STATE;
    if (row.deleted) {
      const latest = this.latestOf(customerId);
      return latest?.type === 'customer.deleted' ? latest.number : Number.NaN;
    }
    const match = /^change (\d+)$/.exec(row.name ?? '');
    return match ? Number(match[1]) : Number.NaN;
  }

  /** What a retrieval answers now: for a deleted customer, its id and `deleted: true`, as Stripe answers. */
  read(customerId: string): StripeObject | null {
    const latest = this.latestOf(customerId);
    if (!latest) return null;
    if (latest.type === 'customer.deleted') return { id: customerId, object: 'customer', deleted: true };
    return customerAt(latest);
  }

  /** The event a change sent, as the inbox stores it. */
  eventOf(change: Change): InboxEvent {
    return toInboxEvent({
      id: `evt_${change.number}`,
      object: 'event',
      type: change.type,
      api_version: change.apiVersion,
      created: change.created,
      livemode: false,
      data: { object: customerAt(change) },
    });
  }
}

const customerAt = (change: Change): StripeObject => ({
  id: change.customerId,
  object: 'customer',
  name: `change ${change.number}`,
  metadata: {},
  test_clock: null,
});

/**
 * A Stripe client whose customer retrievals answer from the timeline, with its clock in the `Date`
 * header. The answer is taken when the retrieval is asked; `whileReading` then runs before it arrives,
 * as changes and deliveries may happen while a read is on its way.
 */
export function timelineStripe(timeline: StripeTimeline, whileReading: () => Promise<void>): Stripe {
  const retrieve = async (customerId: string) => {
    const answer = timeline.read(customerId);
    const date = new Date(timeline.nowS * 1000).toUTCString();
    await whileReading();
    if (!answer) throw Object.assign(new Error('No such customer'), { statusCode: 404 });
    return { ...answer, lastResponse: { headers: { date } } };
  };
  return { customers: { retrieve } } as unknown as Stripe;
}
