import { z } from 'zod';
import { invalidState, parameterInvalid, StripeError } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { int, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { customerTable } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { type ApiRequest, type HttpMethod, type Route, route } from '../server/route.ts';
import { onTestClock, runDueWork } from './due-work.ts';
import { days } from './periods.ts';
import {
  idOf,
  invoiceItems,
  invoicePayments,
  invoices,
  requireTestClock,
  subscriptionItems,
  subscriptions,
  testClocks,
  type WireTestClock,
} from './store.ts';
import { subscriptionSchedules } from './subscription-schedule-objects.ts';

/**
 * Test clocks: a frozen "now" for the customers attached to it and everything they own. Advancing
 * runs, in time order, everything due up to the new time — trial notices and ends, renewals, draft
 * finalization, payment retries, scheduled cancellations — within the request. The response shows
 * the clock `advancing` (as Stripe's does); by the time a client retrieves it, it is `ready`.
 */
const CLOCK_LIFETIME_SECONDS = days(30);

const createParams = z.strictObject({ frozen_time: int(), name: str().optional() });
const advanceParams = z.strictObject({ frozen_time: int() });

function createClock(scope: Scope, params: z.output<typeof createParams>): WireTestClock {
  const created = scope.emulator.clock.nowSeconds();
  const clock: WireTestClock = {
    id: scope.emulator.random.id('clock', 24),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + CLOCK_LIFETIME_SECONDS,
    frozen_time: params.frozen_time,
    livemode: scope.partition.livemode,
    name: params.name ?? null,
    status: 'ready',
    status_details: {},
  };
  testClocks(scope.partition).insert(clock);
  emitEvent(scope, 'test_helpers.test_clock.created', clock, undefined, clock.frozen_time);
  return clock;
}

/** Moves the clock to `target`, performing everything due on the way; returns the `advancing` view. */
export function advanceClock(scope: Scope, clock: WireTestClock, target: number): WireTestClock {
  if (clock.status === 'advancing') throw invalidState('This test clock is already advancing.');
  if (target <= clock.frozen_time)
    throw parameterInvalid(
      'frozen_time',
      "The frozen_time must be after the test clock's current frozen_time.",
    );
  const table = testClocks(scope.partition);
  const advancing: WireTestClock = {
    ...clock,
    status: 'advancing',
    status_details: { advancing: { target_frozen_time: target } },
  };
  table.replace(advancing);
  emitEvent(scope, 'test_helpers.test_clock.advancing', advancing, undefined, clock.frozen_time);
  const stepTo = (at: number) => {
    const current = table.get(clock.id);
    if (current && at > current.frozen_time) table.replace({ ...current, frozen_time: at });
  };
  try {
    runDueWork(scope, target, onTestClock(clock.id), stepTo);
  } finally {
    const ready: WireTestClock = {
      ...(table.get(clock.id) ?? advancing),
      frozen_time: target,
      status: 'ready',
      status_details: {},
    };
    table.replace(ready);
    emitEvent(scope, 'test_helpers.test_clock.ready', ready, undefined, target);
  }
  return advancing;
}

/** Deleting a clock deletes its customers and everything billing holds for them, as Stripe does. */
function deleteClock(scope: Scope, clock: WireTestClock) {
  const { partition } = scope;
  const owned = (object: { test_clock: unknown }) => idOf(object.test_clock as string | null) === clock.id;
  for (const subscription of [...subscriptions(partition).values()].filter(owned)) {
    for (const item of subscription.items.data) subscriptionItems(partition).delete(item.id);
    subscriptions(partition).delete(subscription.id);
  }
  for (const schedule of [...subscriptionSchedules(partition).values()].filter(owned))
    subscriptionSchedules(partition).delete(schedule.id);
  for (const invoice of [...invoices(partition).values()].filter(owned)) {
    for (const payment of [...invoicePayments(partition).values()])
      if (payment.invoice === invoice.id) invoicePayments(partition).delete(payment.id);
    invoices(partition).delete(invoice.id);
  }
  for (const item of [...invoiceItems(partition).values()].filter(owned))
    invoiceItems(partition).delete(item.id);
  for (const customer of [...customerTable(scope).values()].filter((c) =>
    owned({ test_clock: c.test_clock }),
  )) {
    customerTable(scope).delete(customer.id);
    const deleted = { id: customer.id, object: 'customer' as const, deleted: true as const };
    partition.table<typeof deleted>('deleted_customer').insert(deleted);
  }
  testClocks(partition).delete(clock.id);
  emitEvent(scope, 'test_helpers.test_clock.deleted', clock, undefined, clock.frozen_time);
  return { id: clock.id, object: 'test_helpers.test_clock' as const, deleted: true as const };
}

/**
 * A test clock endpoint, served to the platform only. Stripe refuses test clocks to a connected account:
 * creating or listing them with `Stripe-Account` answers this 400 (stripe/stripe-python#819, a limit of
 * the API by Stripe's word). No clock can exist there, so the others refuse alike.
 */
function platformRoute<Schema extends z.ZodType>(
  method: HttpMethod,
  path: string,
  params: Schema,
  handle: (request: ApiRequest<z.output<Schema>>) => unknown,
): Route {
  return route(method, path, params, (request) => {
    if (request.scope.partition.account !== null)
      throw new StripeError(400, {
        type: 'invalid_request_error',
        message: 'Connected account impersonation is not allowed on this endpoint.',
      });
    return handle(request);
  });
}

export const testClockRoutes: Route[] = [
  platformRoute('post', '/v1/test_helpers/test_clocks', createParams, ({ scope, params }) =>
    createClock(scope, params),
  ),
  platformRoute(
    'get',
    '/v1/test_helpers/test_clocks',
    z.strictObject(paginationParams),
    ({ scope, params }) =>
      paginate(
        testClocks(scope.partition).newestFirst(),
        params,
        '/v1/test_helpers/test_clocks',
        'test_helpers.test_clock',
      ),
  ),
  platformRoute('get', '/v1/test_helpers/test_clocks/:id', z.strictObject({}), ({ scope, path }) =>
    requireTestClock(scope, path.id ?? ''),
  ),
  platformRoute('delete', '/v1/test_helpers/test_clocks/:id', z.strictObject({}), ({ scope, path }) =>
    deleteClock(scope, requireTestClock(scope, path.id ?? '')),
  ),
  platformRoute(
    'post',
    '/v1/test_helpers/test_clocks/:id/advance',
    advanceParams,
    ({ scope, path, params }) =>
      advanceClock(scope, requireTestClock(scope, path.id ?? ''), params.frozen_time),
  ),
];
