import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { int, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { customerTable, requireCustomer } from '../customers/index.ts';
import { type Route, route } from '../server/route.ts';
import { aggregate, type Formula, summarize, type UsagePoint, within } from './meter-aggregation.ts';
import { activeMeterFor, requireMeter, type WireMeter } from './meters.ts';

export type WireMeterEvent = Wire<Stripe.Billing.MeterEvent>;
type WireSummary = Wire<Stripe.Billing.MeterEventSummary>;

/**
 * A meter event as the emulator keeps it: the object Stripe returned, plus what it was resolved to
 * on arrival (meter, customer, numeric value) and whether an adjustment canceled it.
 */
type StoredMeterEvent = {
  id: string;
  event: WireMeterEvent;
  meter: string;
  customer: string;
  value: number;
  received_at: number;
  canceled: boolean;
};

const DAY_SECONDS = 86_400;
/** Stripe accepts events up to 35 days old and up to 5 minutes ahead (clock drift). */
const MAX_AGE_SECONDS = 35 * DAY_SECONDS;
const MAX_AHEAD_SECONDS = 300;
/** Identifiers are unique, and events cancelable, within a rolling 24 hours. */
const IDENTIFIER_WINDOW_SECONDS = DAY_SECONDS;

const eventTable = (scope: Scope) => scope.partition.table<StoredMeterEvent>('billing.meter_event');

const createParams = z.strictObject({
  event_name: str(),
  payload: z.record(z.string(), z.string()),
  identifier: str().optional(),
  timestamp: int().optional(),
});

const adjustmentParams = z.strictObject({
  event_name: str(),
  type: oneOf(['cancel']),
  cancel: z.strictObject({ identifier: str().optional() }).optional(),
});

const summaryParams = z.strictObject({
  ...paginationParams,
  customer: str(),
  start_time: int(),
  end_time: int(),
  value_grouping_window: oneOf(['day', 'hour']).optional(),
});

function parseValue(meter: WireMeter, payload: Record<string, string>): number {
  const key = meter.value_settings.event_payload_key;
  const raw = payload[key];
  if (raw === undefined) {
    if (meter.default_aggregation.formula === 'count') return 1;
    throw parameterMissing(`payload[${key}]`);
  }
  if (!/^-?\d+(\.\d+)?$/.test(raw))
    throw parameterInvalid(`payload[${key}]`, `Invalid value for payload[${key}]: must be a number.`);
  return Number(raw);
}

/** "Now" for a customer's usage: its test clock's time when it has one. */
function usageNow(scope: Scope, customerId: string): number {
  const clock = customerTable(scope).get(customerId)?.test_clock;
  return scope.emulator.nowFor(scope.partition, typeof clock === 'string' ? clock : clock?.id);
}

function recentWithIdentifier(scope: Scope, identifier: string): StoredMeterEvent | undefined {
  const since = scope.emulator.clock.nowSeconds() - IDENTIFIER_WINDOW_SECONDS;
  return eventTable(scope)
    .newestFirst()
    .find((stored) => stored.event.identifier === identifier && stored.received_at > since);
}

function createMeterEvent(scope: Scope, params: z.output<typeof createParams>): WireMeterEvent {
  const meter = activeMeterFor(scope, params.event_name);
  if (!meter)
    throw parameterInvalid('event_name', `No active meter found for event_name \`${params.event_name}\`.`);
  const customerKey = meter.customer_mapping.event_payload_key;
  const customer = params.payload[customerKey];
  if (!customer) throw parameterMissing(`payload[${customerKey}]`);
  const value = parseValue(meter, params.payload);
  const now = usageNow(scope, customer);
  const timestamp = params.timestamp ?? now;
  if (timestamp < now - MAX_AGE_SECONDS || timestamp > now + MAX_AHEAD_SECONDS)
    throw parameterInvalid(
      'timestamp',
      'The timestamp must be within the past 35 calendar days or up to 5 minutes in the future.',
    );
  const identifier = params.identifier ?? scope.emulator.random.token(24);
  if (recentWithIdentifier(scope, identifier))
    throw invalidState(`An event already exists with identifier ${identifier}.`, 'identifier');
  const event: WireMeterEvent = {
    object: 'billing.meter_event',
    created: now,
    event_name: params.event_name,
    identifier,
    livemode: scope.partition.livemode,
    payload: params.payload,
    timestamp,
  };
  eventTable(scope).insert({
    id: scope.emulator.random.id('mtrevt', 24),
    event,
    meter: meter.id,
    customer,
    value,
    received_at: scope.emulator.clock.nowSeconds(),
    canceled: false,
  });
  return event;
}

/** Cancels one event by identifier; Stripe allows it within 24 hours of receiving the event. */
function createAdjustment(scope: Scope, params: z.output<typeof adjustmentParams>) {
  const identifier = params.cancel?.identifier;
  if (!identifier) throw parameterMissing('cancel[identifier]');
  const stored = recentWithIdentifier(scope, identifier);
  if (!stored || stored.event.event_name !== params.event_name || stored.canceled)
    throw parameterInvalid(
      'cancel[identifier]',
      `No meter event with identifier ${identifier} and event_name \`${params.event_name}\` can be canceled.`,
    );
  eventTable(scope).replace({ ...stored, canceled: true });
  const adjustment: Wire<Stripe.Billing.MeterEventAdjustment> = {
    object: 'billing.meter_event_adjustment',
    cancel: { identifier },
    event_name: params.event_name,
    livemode: scope.partition.livemode,
    status: 'pending',
    type: 'cancel',
  };
  return adjustment;
}

/** The meter's uncanceled events for a customer, in arrival order. */
function usagePoints(scope: Scope, meterId: string, customerId: string): UsagePoint[] {
  return [...eventTable(scope).values()]
    .filter((stored) => stored.meter === meterId && stored.customer === customerId && !stored.canceled)
    .map((stored) => ({ timestamp: stored.event.timestamp, value: stored.value }));
}

/**
 * A customer's usage on a meter over `[start, end)`, aggregated by the meter's formula: what a
 * metered price bills for that period.
 */
export function meterUsage(
  scope: Scope,
  meterId: string,
  customerId: string,
  start: number,
  end: number,
): number {
  const meter = requireMeter(scope, meterId);
  const formula = meter.default_aggregation.formula as Formula;
  return aggregate(formula, within(usagePoints(scope, meterId, customerId), start, end));
}

/** Summary ids name what they summarize, so a page cursor finds the same summary again. */
function summaryId(scope: Scope, meterId: string, customerId: string, start: number, end: number): string {
  const mode = scope.partition.livemode ? '' : 'test_';
  return `mtrusg_${mode}${Buffer.from(`${meterId}:${customerId}:${start}:${end}`).toString('base64url')}`;
}

function listSummaries(scope: Scope, meterId: string, params: z.output<typeof summaryParams>) {
  const meter = requireMeter(scope, meterId);
  requireCustomer(scope, params.customer, 'customer');
  for (const param of ['start_time', 'end_time'] as const)
    if (params[param] % 60 !== 0)
      throw parameterInvalid(param, `${param} must be aligned with minute boundaries.`);
  if (params.end_time <= params.start_time)
    throw parameterInvalid('end_time', 'end_time must be after start_time.');
  const formula = meter.default_aggregation.formula as Formula;
  const points = usagePoints(scope, meter.id, params.customer);
  const rows = summarize(
    formula,
    points,
    params.start_time,
    params.end_time,
    params.value_grouping_window,
  ).map(
    (window): WireSummary => ({
      id: summaryId(scope, meter.id, params.customer, window.start, window.end),
      object: 'billing.meter_event_summary',
      aggregated_value: window.value,
      end_time: window.end,
      livemode: scope.partition.livemode,
      meter: meter.id,
      start_time: window.start,
    }),
  );
  return paginate(
    rows,
    params,
    `/v1/billing/meters/${meter.id}/event_summaries`,
    'billing.meter_event_summary',
  );
}

export const meterEventRoutes: Route[] = [
  route('post', '/v1/billing/meter_events', createParams, ({ scope, params }) =>
    createMeterEvent(scope, params),
  ),
  route('post', '/v1/billing/meter_event_adjustments', adjustmentParams, ({ scope, params }) =>
    createAdjustment(scope, params),
  ),
  route('get', '/v1/billing/meters/:id/event_summaries', summaryParams, ({ scope, path, params }) =>
    listSummaries(scope, path.id ?? '', params),
  ),
];
