import { z } from 'zod';
import { invalidState, resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, list, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { WireEvent } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';

const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  delivery_success: bool().optional(),
  type: str().optional(),
  types: list(str()).optional(),
});

type EventFilter = z.output<typeof listParams>;

export const eventTable = (scope: Scope) => scope.partition.table<WireEvent>('event');

/** `customer.*` matches every customer event; `*` stands for any run of characters. */
export function typePattern(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((piece) => piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/**
 * The filters of `GET /v1/events`. `delivery_success=true` keeps events every endpoint has
 * acknowledged (`pending_webhooks` is 0); `false` keeps those still pending or failed somewhere.
 */
export function eventMatcher(filter: EventFilter): (event: WireEvent) => boolean {
  if (filter.type !== undefined && filter.types !== undefined)
    throw invalidState(
      'You may only specify one of these parameters: type, types.',
      'type',
      'parameters_exclusive',
    );
  const patterns = (filter.types ?? (filter.type !== undefined ? [filter.type] : [])).map(typePattern);
  return (event) =>
    (patterns.length === 0 || patterns.some((pattern) => pattern.test(event.type))) &&
    matchesCreated(event.created, filter.created) &&
    (filter.delivery_success === undefined || (event.pending_webhooks === 0) === filter.delivery_success);
}

export const eventRoutes: Route[] = [
  route('get', '/v1/events/:id', z.strictObject({}), ({ scope, path }) => {
    const event = eventTable(scope).get(path.id ?? '');
    if (!event) throw resourceMissing('event', path.id ?? '');
    return event;
  }),
  route('get', '/v1/events', listParams, ({ scope, params }) =>
    paginate(eventTable(scope).newestFirst().filter(eventMatcher(params)), params, '/v1/events', 'event'),
  ),
];
