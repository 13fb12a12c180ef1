import type Stripe from 'stripe';
import { withFirstPage } from '../core/embedded-pages.ts';
import type { Scope } from '../core/scope.ts';
import type { StripeObject, Wire } from '../core/wire.ts';

export type WireEvent = Wire<Stripe.Event>;

/**
 * Records that something happened to an object, as Stripe does: an `event` row readable through
 * `/v1/events`, carrying a snapshot of the object and, for updates, the previous values of the fields
 * that changed; then hands it to webhook delivery. Like Stripe's, the snapshot embeds one page of a
 * list (a subscription's items), with `has_more` when there are more.
 */
export function emitEvent(
  scope: Scope,
  type: Stripe.Event.Type,
  object: StripeObject | Record<string, unknown>,
  previousAttributes?: Record<string, unknown>,
  at?: number,
): WireEvent {
  const { emulator, partition, cause } = scope;
  const kind = object.object;
  const event = {
    id: emulator.random.id('evt', 24),
    object: 'event',
    ...(partition.account ? { account: partition.account } : {}),
    api_version: emulator.apiVersion,
    created: at ?? emulator.clock.nowSeconds(),
    data: {
      object: withFirstPage(structuredClone(object), kind),
      ...(previousAttributes
        ? { previous_attributes: withFirstPage(structuredClone(previousAttributes), kind) }
        : {}),
    },
    livemode: partition.livemode,
    pending_webhooks: emulator.webhooks.pendingFor(partition, type),
    request: { id: cause.id, idempotency_key: cause.idempotency_key },
    type,
  } as WireEvent;
  partition.table<WireEvent>('event').insert(event);
  emulator.webhooks.publish(event, partition);
  return event;
}

/**
 * The fields of `before` whose values differ in `after`, with their old values: Stripe's
 * `previous_attributes`. Nested objects are compared whole and reported whole.
 */
export function previousAttributes(before: object, after: object): Record<string, unknown> | undefined {
  const old = before as Record<string, unknown>;
  const now = after as Record<string, unknown>;
  const changed: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(old), ...Object.keys(now)])) {
    if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) changed[key] = old[key] ?? null;
  }
  return Object.keys(changed).length > 0 ? changed : undefined;
}
