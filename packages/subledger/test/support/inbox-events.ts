import { API_VERSION } from '../../src/stripe/index.ts';
import { type InboxEvent, toInboxEvent } from '../../src/sync/envelope.ts';

/** A verified `customer.updated` event `id` about `cus_<id>`, as the inbox stores it; fields may be overridden. */
export const inboxEventWith = (id: string, overrides: Record<string, unknown> = {}): InboxEvent =>
  toInboxEvent({
    id,
    object: 'event',
    type: 'customer.updated',
    api_version: API_VERSION,
    created: 1_700_000_000,
    livemode: false,
    data: { object: { id: `cus_${id}`, object: 'customer' } },
    ...overrides,
  });
