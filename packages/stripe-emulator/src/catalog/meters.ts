import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import { modeId } from './mode-id.ts';

export type WireMeter = Wire<Stripe.Billing.Meter>;

const createParams = z.strictObject({
  default_aggregation: z.strictObject({ formula: oneOf(['count', 'last', 'sum']) }),
  display_name: str(),
  event_name: str(),
  customer_mapping: z.strictObject({ event_payload_key: str(), type: oneOf(['by_id']) }).optional(),
  event_time_window: oneOf(['day', 'hour']).optional(),
  value_settings: z.strictObject({ event_payload_key: str() }).optional(),
});

const listParams = z.strictObject({ ...paginationParams, status: oneOf(['active', 'inactive']).optional() });

export const meterTable = (scope: Scope) => scope.partition.table<WireMeter>('billing.meter');

export function requireMeter(scope: Scope, id: string, param = 'id'): WireMeter {
  const meter = meterTable(scope).get(id);
  if (!meter) throw resourceMissing('billing.meter', id, param);
  return meter;
}

/** The active meter that records events named `eventName`, if any. */
export function activeMeterFor(scope: Scope, eventName: string): WireMeter | undefined {
  for (const meter of meterTable(scope).values())
    if (meter.status === 'active' && meter.event_name === eventName) return meter;
  return undefined;
}

/** An event name feeds one active meter at a time, so every meter event has one meter. */
function assertEventNameFree(scope: Scope, eventName: string): void {
  const holder = activeMeterFor(scope, eventName);
  if (holder)
    throw invalidState(
      `An active meter (\`${holder.id}\`) already uses the event_name \`${eventName}\`.`,
      'event_name',
    );
}

function createMeter(scope: Scope, params: z.output<typeof createParams>): WireMeter {
  assertEventNameFree(scope, params.event_name);
  const now = scope.emulator.clock.nowSeconds();
  const meter = meterTable(scope).insert({
    id: modeId(scope, 'mtr'),
    object: 'billing.meter',
    created: now,
    customer_mapping: {
      event_payload_key: params.customer_mapping?.event_payload_key ?? 'stripe_customer_id',
      type: 'by_id',
    },
    default_aggregation: { formula: params.default_aggregation.formula },
    display_name: params.display_name,
    event_name: params.event_name,
    event_time_window: params.event_time_window ?? null,
    livemode: scope.partition.livemode,
    status: 'active',
    status_transitions: { deactivated_at: null },
    updated: now,
    value_settings: { event_payload_key: params.value_settings?.event_payload_key ?? 'value' },
  });
  emitEvent(scope, 'billing.meter.created', meter);
  return meter;
}

type MeterChange = 'billing.meter.updated' | 'billing.meter.deactivated' | 'billing.meter.reactivated';

function saveMeter(scope: Scope, before: WireMeter, after: WireMeter, type: MeterChange): WireMeter {
  const stamped = { ...after, updated: scope.emulator.clock.nowSeconds() };
  meterTable(scope).replace(stamped);
  emitEvent(scope, type, stamped, previousAttributes(before, stamped));
  return stamped;
}

function deactivate(scope: Scope, id: string): WireMeter {
  const meter = requireMeter(scope, id);
  if (meter.status !== 'active') throw invalidState(`The meter \`${id}\` is already inactive.`);
  const deactivatedAt = scope.emulator.clock.nowSeconds();
  return saveMeter(
    scope,
    meter,
    { ...meter, status: 'inactive', status_transitions: { deactivated_at: deactivatedAt } },
    'billing.meter.deactivated',
  );
}

function reactivate(scope: Scope, id: string): WireMeter {
  const meter = requireMeter(scope, id);
  if (meter.status === 'active') throw invalidState(`The meter \`${id}\` is already active.`);
  assertEventNameFree(scope, meter.event_name);
  return saveMeter(
    scope,
    meter,
    { ...meter, status: 'active', status_transitions: { deactivated_at: null } },
    'billing.meter.reactivated',
  );
}

export const meterRoutes: Route[] = [
  route('post', '/v1/billing/meters', createParams, ({ scope, params }) => createMeter(scope, params)),
  route('get', '/v1/billing/meters', listParams, ({ scope, params }) => {
    const rows = meterTable(scope)
      .newestFirst()
      .filter((meter) => params.status === undefined || meter.status === params.status);
    return paginate(rows, params, '/v1/billing/meters', 'billing.meter');
  }),
  route('get', '/v1/billing/meters/:id', z.strictObject({}), ({ scope, path }) =>
    requireMeter(scope, path.id ?? ''),
  ),
  route(
    'post',
    '/v1/billing/meters/:id',
    z.strictObject({ display_name: str().optional() }),
    ({ scope, path, params }) => {
      const before = requireMeter(scope, path.id ?? '');
      if (params.display_name === undefined || params.display_name === before.display_name) return before;
      return saveMeter(
        scope,
        before,
        { ...before, display_name: params.display_name },
        'billing.meter.updated',
      );
    },
  ),
  route('post', '/v1/billing/meters/:id/deactivate', z.strictObject({}), ({ scope, path }) =>
    deactivate(scope, path.id ?? ''),
  ),
  route('post', '/v1/billing/meters/:id/reactivate', z.strictObject({}), ({ scope, path }) =>
    reactivate(scope, path.id ?? ''),
  ),
];
