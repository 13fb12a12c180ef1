import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { API_VERSION } from '../../src/stripe/index.ts';
import type { Stack } from './stack.ts';

/** What the webhook endpoint answered: its status and JSON body. */
export type Answer = {
  status: number;
  body: { received?: boolean; duplicate?: boolean; error?: { code: string } };
};

/** Signed deliveries to a stack's webhook endpoint, and what the inbox holds after them. */
export function webhookClient(stack: () => Stack) {
  const secret = () => stack().subledger.config.webhookSecrets[0]?.secret as string;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

  /** A customer.created event of a new customer, as Stripe sends it. */
  const anEvent = (overrides: Record<string, unknown> = {}) => {
    const customer = newId('cus');
    return {
      id: newId('evt'),
      object: 'event',
      type: 'customer.created',
      api_version: API_VERSION,
      created: nowSeconds(),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: { id: customer, object: 'customer', email: `${customer}@example.com`, metadata: {} } },
      ...overrides,
    };
  };

  const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: options.secret ?? secret(),
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    });

  const post = async (
    payload: string | Uint8Array,
    headers: Record<string, string>,
    path = '/webhooks/stripe',
  ) => {
    const response = await fetch(`${stack().url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: payload,
    });
    return { status: response.status, body: await response.json() } as Answer;
  };

  const deliver = (event: object, path?: string) => {
    const payload = JSON.stringify(event);
    return post(payload, { 'stripe-signature': sign(payload) }, path);
  };

  const countEvents = async () =>
    Number((await stack().database.pool.query('select count(*) as n from stripe_events')).rows[0].n);

  const inboxRow = async (id: string) =>
    (
      await stack().database.pool.query(
        'select status, outcome, attempts, stripe_account, type from stripe_events where id = $1',
        [id],
      )
    ).rows[0];

  /** Sends a request that must be refused with `status` and `code`, and checks that nothing was stored. */
  const assertRefused = async (send: () => Promise<Answer>, status: number, code: string) => {
    const before = await countEvents();
    const answer = await send();
    assert.equal(answer.status, status);
    assert.equal(answer.body.error?.code, code);
    assert.equal(await countEvents(), before, 'a refused webhook wrote to the inbox');
  };

  return { secret, nowSeconds, anEvent, sign, post, deliver, inboxRow, assertRefused };
}
