import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, parameterInvalid, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { bool, emptyable, list, mergeMetadata, metadata, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import type { Wire } from '../core/wire.ts';
import type { Emulator } from '../emulator.ts';
import { type Route, route } from '../server/route.ts';
import { type EventOrigin, receives } from './matching.ts';

export type WireWebhookEndpoint = Wire<Stripe.WebhookEndpoint>;

/**
 * What the API never shows after creation: the signing secret, and whether the endpoint is a Connect
 * endpoint (the SDK's `WebhookEndpoint` has no `connect` field, so it is kept beside the object).
 */
export type EndpointSecret = { id: string; secret: string; connect: boolean };

/** Stripe's per-account limit on webhook endpoints, per mode. */
const MAX_ENDPOINTS = 16;
const EVENT_TYPE = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

const enabledEvents = list(str()).transform((events, ctx) => {
  if (events.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'enabled_events must not be empty', params: {} });
    return z.NEVER;
  }
  return events;
});

const createParams = z.strictObject({
  url: str(),
  enabled_events: enabledEvents,
  api_version: z.string().optional(),
  connect: bool().optional(),
  description: emptyable(z.string()).optional(),
  metadata: metadata().optional(),
});

const updateParams = z.strictObject({
  url: str().optional(),
  enabled_events: enabledEvents.optional(),
  disabled: bool().optional(),
  description: emptyable(z.string()).optional(),
  metadata: metadata().optional(),
});

const endpointTable = (partition: Partition) => partition.table<WireWebhookEndpoint>('webhook_endpoint');
const secretTable = (partition: Partition) => partition.table<EndpointSecret>('webhook_endpoint_secret');

function requireEndpoint(scope: Scope, id: string): WireWebhookEndpoint {
  const endpoint = endpointTable(scope.partition).get(id);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw parameterInvalid('url', `Invalid URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw parameterInvalid('url', `Invalid URL: ${url}. The URL must use http or https.`);
}

function checkEvents(events: string[]): void {
  events.forEach((type, index) => {
    if (type !== '*' && !EVENT_TYPE.test(type))
      throw parameterInvalid(
        `enabled_events[${index}]`,
        `Invalid enabled_events[${index}]: '${type}' is not an event type.`,
      );
  });
}

function createEndpoint(scope: Scope, params: z.output<typeof createParams>): WireWebhookEndpoint {
  const { emulator, partition } = scope;
  checkUrl(params.url);
  checkEvents(params.enabled_events);
  if (endpointTable(partition).size >= MAX_ENDPOINTS)
    throw invalidState(
      `You have reached the maximum of ${MAX_ENDPOINTS} ${partition.livemode ? 'live' : 'test'} webhook endpoints.`,
    );
  const endpoint: WireWebhookEndpoint = {
    id: emulator.random.id('we', 24),
    object: 'webhook_endpoint',
    api_version: params.api_version ?? null,
    application: null,
    created: emulator.clock.nowSeconds(),
    description: params.description ?? null,
    enabled_events: params.enabled_events,
    livemode: partition.livemode,
    metadata: mergeMetadata({}, params.metadata),
    status: 'enabled',
    url: params.url,
  };
  const secret = `whsec_${emulator.random.token(32)}`;
  endpointTable(partition).insert(endpoint);
  secretTable(partition).insert({ id: endpoint.id, secret, connect: params.connect ?? false });
  return { ...endpoint, secret };
}

function updateEndpoint(
  scope: Scope,
  before: WireWebhookEndpoint,
  params: z.output<typeof updateParams>,
): WireWebhookEndpoint {
  if (params.url !== undefined) checkUrl(params.url);
  if (params.enabled_events !== undefined) checkEvents(params.enabled_events);
  const after: WireWebhookEndpoint = {
    ...before,
    url: params.url ?? before.url,
    enabled_events: params.enabled_events ?? before.enabled_events,
    status: params.disabled === undefined ? before.status : params.disabled ? 'disabled' : 'enabled',
    description: params.description === undefined ? before.description : params.description,
    metadata: mergeMetadata(before.metadata, params.metadata),
  };
  return endpointTable(scope.partition).replace(after);
}

export const endpointRoutes: Route[] = [
  route('post', '/v1/webhook_endpoints', createParams, ({ scope, params }) => createEndpoint(scope, params)),
  route('get', '/v1/webhook_endpoints/:id', z.strictObject({}), ({ scope, path }) =>
    requireEndpoint(scope, path.id ?? ''),
  ),
  route('post', '/v1/webhook_endpoints/:id', updateParams, ({ scope, path, params }) =>
    updateEndpoint(scope, requireEndpoint(scope, path.id ?? ''), params),
  ),
  route('delete', '/v1/webhook_endpoints/:id', z.strictObject({}), ({ scope, path }) => {
    const endpoint = requireEndpoint(scope, path.id ?? '');
    endpointTable(scope.partition).delete(endpoint.id);
    secretTable(scope.partition).delete(endpoint.id);
    return { id: endpoint.id, object: 'webhook_endpoint' as const, deleted: true as const };
  }),
  route('get', '/v1/webhook_endpoints', z.strictObject(paginationParams), ({ scope, params }) =>
    paginate(
      endpointTable(scope.partition).newestFirst(),
      params,
      '/v1/webhook_endpoints',
      'webhook_endpoint',
    ),
  ),
];

/** An endpoint as delivery sees it: the object, its secret, and the partition it lives in. */
export type Receiver = { endpoint: WireWebhookEndpoint; secret: string; home: Partition };

/**
 * The endpoints an event goes to, in the order they were created: the account endpoints of the event's
 * own account and — for an event of a connected account — the platform's Connect endpoints in the same
 * mode.
 */
export function receiversOf(emulator: Emulator, partition: Partition, eventType: string): Receiver[] {
  const homes: [Partition, EventOrigin][] = [[partition, 'own_account']];
  if (partition.account !== null)
    homes.push([emulator.partition(null, partition.livemode), 'connected_account']);
  return homes.flatMap(([home, origin]) =>
    [...endpointTable(home).values()].flatMap((endpoint) => {
      const settings = secretTable(home).get(endpoint.id);
      const listening = settings && receives({ ...endpoint, connect: settings.connect }, eventType, origin);
      return listening ? [{ endpoint, secret: settings.secret, home }] : [];
    }),
  );
}

/** The endpoint as it is now (it may have been disabled, changed or deleted since an event was sent). */
export function currentReceiver(emulator: Emulator, home: Partition, id: string): Receiver | null {
  const partition = emulator.partition(home.account, home.livemode);
  const endpoint = endpointTable(partition).get(id);
  const settings = secretTable(partition).get(id);
  return endpoint && settings ? { endpoint, secret: settings.secret, home: partition } : null;
}
