import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { API_VERSION } from '../../src/stripe/index.ts';
import { REFERENCE } from './reference-objects.ts';

// The emulator sends neither `account.application.authorized` nor `account.application.deauthorized`:
// tests build them in Stripe's shape, from its example application and a recorded deauthorization.

const reference = (path: string) => JSON.parse(readFileSync(new URL(path, REFERENCE), 'utf8'));
const APPLICATION = reference('openapi/fixtures3.json').resources.application;
const DEAUTHORIZED = reference('events/stripe-ruby-mock/account.application.deauthorized.json');

export const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

/** `account.application.<authorization>` about `account`, as Stripe sends it to a Connect endpoint. */
export const accessEvent = (
  authorization: 'authorized' | 'deauthorized',
  account: string,
  created: number,
) => ({
  ...DEAUTHORIZED,
  id: newId('evt'),
  type: `account.application.${authorization}`,
  account,
  api_version: API_VERSION,
  created,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object: { ...APPLICATION, id: 'ca_subledgerTestPlatform', name: 'Subledger tests' } },
});
