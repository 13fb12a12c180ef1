import type { Context } from 'hono';
import { Hono } from 'hono';
import { embeddedPages } from '../core/embedded-pages.ts';
import { notAuthenticated, StripeError, urlNotFound } from '../core/errors.ts';
import { expand } from '../core/expand.ts';
import { fingerprint } from '../core/idempotency.ts';
import { parseFormEncoded, validate } from '../core/params.ts';
import type { Cause } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';
import type { Emulator, WebhookPublisher } from '../emulator.ts';
import type { Route } from './route.ts';

const API_KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;

/**
 * The HTTP face of the emulator: Stripe's REST paths under `/v1/`, each request authenticated by its
 * key (which also picks test or live mode), scoped to a `Stripe-Account`, subject to idempotency, and
 * answered with Stripe's headers and error envelope.
 */
export function createApp(emulator: Emulator, controlRoutes: (app: Hono) => void): Hono {
  const app = new Hono();
  // Stripe's `Date` header is Stripe's clock; clients order reads against event `created` with it, so it
  // must follow the emulator's clock when that is advanced.
  app.use('/v1/*', async (c, next) => {
    await next();
    c.res.headers.set('date', new Date(emulator.clock.nowSeconds() * 1000).toUTCString());
  });
  controlRoutes(app);
  for (const route of emulator.routes)
    app.on(route.method.toUpperCase(), route.path, (c) => serve(emulator, route, c));
  app.notFound((c) => {
    const requestId = emulator.random.id('req', 14);
    return errorResponse(
      urlNotFound(c.req.method, new URL(c.req.url).pathname),
      requestId,
      emulator.apiVersion,
    );
  });
  return app;
}

async function serve(emulator: Emulator, route: Route, c: Context): Promise<Response> {
  const requestId = emulator.random.id('req', 14);
  const version = c.req.header('stripe-version') ?? emulator.apiVersion;
  try {
    const fault = await emulator.apiFaults.intercept(c.req.raw, requestId);
    if (fault) return fault;
    const livemode = authenticate(c.req.header('authorization'));
    const partition = emulator.partition(c.req.header('stripe-account') ?? null, livemode);
    const raw = await readParams(c, route.method);
    const { expand: expandParam, ...rest } = raw;
    const expandPaths = expandList(expandParam);
    const idempotencyKey = route.method === 'get' ? null : (c.req.header('idempotency-key') ?? null);
    const print = fingerprint(route.method, new URL(c.req.url).pathname, raw);
    if (idempotencyKey) {
      const decision = emulator.idempotency.decide(
        partition.key,
        idempotencyKey,
        print,
        emulator.clock.nowMs(),
      );
      if (decision.kind === 'replay')
        return jsonResponse(decision.status, decision.body, requestId, version, {
          'idempotency-key': idempotencyKey,
          'idempotent-replayed': 'true',
        });
    }
    const params = validate(route.params, rest);
    const cause: Cause = { id: requestId, idempotency_key: idempotencyKey };
    const [status, body] = await execute(
      emulator,
      route,
      partition,
      cause,
      params,
      c.req.param(),
      expandPaths,
    );
    if (idempotencyKey)
      emulator.idempotency.save(partition.key, idempotencyKey, print, status, body, emulator.clock.nowMs());
    return jsonResponse(
      status,
      body,
      requestId,
      version,
      idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    );
  } catch (error) {
    return errorResponse(error, requestId, version);
  }
}

/** Runs the handler; its own failures are part of the response an idempotency key replays. */
async function execute(
  emulator: Emulator,
  route: Route,
  partition: Partition,
  cause: Cause,
  params: unknown,
  path: Record<string, string>,
  expandPaths: string[],
): Promise<[number, string]> {
  try {
    const scope = emulator.scope(partition, cause);
    const expandResult = (result: unknown) =>
      expand(result, expandPaths, {
        resolve: (name, id) => emulator.find(partition, name, id),
        include: (object, field) => emulator.includables[String(object.object)]?.[field]?.(object, partition),
      });
    const expanded = await handleAtomically(
      emulator,
      () => route.handle({ scope, params, path }),
      expandResult,
    );
    // Stored objects hold every row of their embedded lists; Stripe's answers embed the first page.
    return [200, JSON.stringify(expanded, embeddedPages)];
  } catch (error) {
    if (!(error instanceof StripeError)) throw error;
    return [
      error.status,
      JSON.stringify({ error: { ...error.body, request_log_url: logUrl(cause.id ?? '') } }),
    ];
  }
}

/**
 * A refused request has done nothing, as on Stripe: when the handler throws (after some writes) or
 * expansion refuses the result (`expand[]=x.y`, checked only once there is a result), the writes are
 * undone and the events they emitted never reach a webhook endpoint. Card errors (402) are the
 * exception: Stripe keeps the failed charge and the intent's `last_payment_error`. Handlers are
 * synchronous, so nothing else runs inside the transaction; a handler that returns a promise is
 * awaited outside it.
 */
async function handleAtomically(
  emulator: Emulator,
  handle: () => unknown,
  expandResult: (result: unknown) => unknown,
): Promise<unknown> {
  const transaction = emulator.store.begin();
  const publisher = emulator.webhooks;
  const held: Parameters<WebhookPublisher['publish']>[] = [];
  emulator.webhooks = {
    pendingFor: publisher.pendingFor.bind(publisher),
    publish: (...event) => held.push(event),
  };
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    emulator.webhooks = publisher;
    if (error instanceof StripeError && error.status !== 402) return transaction.rollback();
    transaction.commit();
    for (const event of held) publisher.publish(...event);
  };
  try {
    const result = handle();
    if (result instanceof Promise) {
      finish();
      return expandResult(await result);
    }
    const expanded = expandResult(result);
    finish();
    return expanded;
  } catch (error) {
    // A rejected promise lands here after the transaction was committed; finish then does nothing.
    finish(error);
    throw error;
  }
}

function authenticate(header: string | undefined): boolean {
  if (!header)
    throw notAuthenticated(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  const key = keyFrom(header);
  const match = API_KEY.exec(key);
  if (!match) throw notAuthenticated(`Invalid API Key provided: ${redact(key)}`);
  return match[2] === 'live';
}

/** Bearer auth as the SDK sends it, or Basic auth with the key as user name (`curl -u sk_test_…:`). */
function keyFrom(header: string): string {
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString().split(':')[0] ?? '';
  return scheme.toLowerCase() === 'bearer' ? value : header.trim();
}

/** Stripe's way of naming a bad key without echoing it: the first 8 and last 4 characters. */
const redact = (key: string) =>
  key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(Math.min(key.length - 12, 20))}${key.slice(-4)}` : '****';

async function readParams(c: Context, method: string): Promise<Record<string, unknown>> {
  const query = new URL(c.req.url).search.slice(1);
  if (method !== 'post') return parseFormEncoded(query);
  const type = c.req.header('content-type') ?? '';
  const body = await c.req.text();
  if (body !== '' && !type.includes('application/x-www-form-urlencoded') && !type.includes('multipart'))
    throw new StripeError(400, {
      type: 'invalid_request_error',
      message:
        'Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.',
    });
  return parseFormEncoded(body);
}

function expandList(value: unknown): string[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') return [value];
  const items = Array.isArray(value) ? value : Object.values(value as object);
  return items.filter((item): item is string => typeof item === 'string');
}

const logUrl = (requestId: string) => `https://dashboard.stripe.com/test/logs/${requestId}`;

function jsonResponse(
  status: number,
  body: string,
  requestId: string,
  version: string,
  extra: Record<string, string>,
): Response {
  return new Response(body, {
    status,
    headers: {
      'content-type': 'application/json',
      'request-id': requestId,
      'stripe-version': version,
      'access-control-allow-origin': '*',
      ...extra,
    },
  });
}

export function errorResponse(error: unknown, requestId: string, version: string): Response {
  if (error instanceof StripeError) {
    const body = JSON.stringify({ error: { ...error.body, request_log_url: logUrl(requestId) } });
    return jsonResponse(error.status, body, requestId, version, {});
  }
  const message = error instanceof Error ? error.message : String(error);
  const body = JSON.stringify({ error: { type: 'api_error', message: `Emulator failure: ${message}` } });
  return jsonResponse(500, body, requestId, version, {});
}
