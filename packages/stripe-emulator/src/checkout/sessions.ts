import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, parameterInvalid, parameterMissing, resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, int, list, mergeMetadata, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { requireCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { cancelPaymentIntent, paymentIntentTable } from '../payments/index.ts';
import { type Route, route } from '../server/route.ts';
import { buildLineItems, lineItemParam, type WireLineItem } from './line-items.ts';
import { type Mode, newSession, sessionId, type WireSession } from './session-object.ts';
import { createSessionSetupIntent } from './setup.ts';

export const sessionTable = (scope: Scope) => scope.partition.table<WireSession>('checkout.session');

type StoredLineItems = { id: string; items: WireLineItem[] };

/** Line items appear on a session only through `expand[]=line_items` or their own endpoint. */
export const lineItemTable = (scope: Scope) =>
  scope.partition.table<StoredLineItems>('checkout.session.line_items');

export function requireSession(scope: Scope, id: string, param = 'session'): WireSession {
  const session = sessionTable(scope).get(id);
  if (!session) throw resourceMissing('checkout.session', id, param);
  return session;
}

const DAY_SECONDS = 24 * 60 * 60;
const MIN_LIFETIME_SECONDS = 30 * 60;

const createParams = z.strictObject({
  mode: oneOf(['payment', 'subscription', 'setup']).optional(),
  line_items: list(lineItemParam).optional(),
  customer: str().optional(),
  customer_email: str().optional(),
  customer_creation: oneOf(['always', 'if_required']).optional(),
  client_reference_id: z.string().optional(),
  metadata: metadata().optional(),
  success_url: z.string().optional(),
  cancel_url: z.string().optional(),
  currency: z.string().optional(),
  allow_promotion_codes: bool().optional(),
  expires_at: int().optional(),
  locale: z.string().optional(),
  payment_method_types: list(z.string()).optional(),
  allowed_payment_method_types: list(z.string()).optional(),
  excluded_payment_method_types: list(z.string()).optional(),
  ui_mode: oneOf(['hosted', 'hosted_page']).optional(),
  billing_address_collection: oneOf(['auto', 'required']).optional(),
  customer_update: z.unknown().optional(),
  submit_type: z.unknown().optional(),
  payment_method_collection: oneOf(['always', 'if_required']).optional(),
  subscription_data: z
    .strictObject({
      trial_period_days: int({ min: 1, max: 730 }).optional(),
      trial_end: int().optional(),
      metadata: metadata().optional(),
      description: z.string().optional(),
      default_tax_rates: z.unknown().optional(),
      trial_settings: z.unknown().optional(),
      billing_cycle_anchor: z.unknown().optional(),
      proration_behavior: z.unknown().optional(),
    })
    .optional(),
  payment_intent_data: z
    .strictObject({
      metadata: metadata().optional(),
      description: z.string().optional(),
      setup_future_usage: oneOf(['off_session', 'on_session']).optional(),
      capture_method: oneOf(['automatic', 'automatic_async', 'manual']).optional(),
      receipt_email: z.string().optional(),
      statement_descriptor: z.string().optional(),
      statement_descriptor_suffix: z.string().optional(),
    })
    .optional(),
  setup_intent_data: z
    .strictObject({ metadata: metadata().optional(), description: z.string().optional() })
    .optional(),
});

export type CreateSessionParams = z.output<typeof createParams>;

function checkParams(params: CreateSessionParams, mode: Mode, created: number): void {
  if (params.customer && params.customer_email)
    throw parameterInvalid(
      'customer_email',
      'You may only specify one of these parameters: customer, customer_email.',
    );
  if (params.customer_creation && mode !== 'payment')
    throw parameterInvalid('customer_creation', '`customer_creation` can only be used in `payment` mode.');
  if (params.subscription_data && mode !== 'subscription')
    throw parameterInvalid(
      'subscription_data',
      '`subscription_data` can only be used in `subscription` mode.',
    );
  if (params.payment_intent_data && mode !== 'payment')
    throw parameterInvalid(
      'payment_intent_data',
      '`payment_intent_data` can only be used in `payment` mode.',
    );
  if (mode !== 'setup' && !params.line_items?.length) throw parameterMissing('line_items');
  if (mode === 'setup' && params.line_items?.length)
    throw parameterInvalid('line_items', 'You cannot pass `line_items` in `setup` mode.');
  const expiresAt = params.expires_at;
  if (
    expiresAt !== undefined &&
    (expiresAt < created + MIN_LIFETIME_SECONDS || expiresAt > created + DAY_SECONDS)
  )
    throw parameterInvalid(
      'expires_at',
      'The `expires_at` timestamp must be at least 30 minutes and at most 24 hours after the Checkout Session is created.',
    );
}

export function createSession(scope: Scope, params: CreateSessionParams): WireSession {
  const mode = params.mode ?? 'payment';
  const created = scope.emulator.clock.nowSeconds();
  checkParams(params, mode, created);
  const customer = params.customer ? requireCustomer(scope, params.customer, 'customer') : null;
  const lineItems = buildLineItems(scope, params.line_items ?? [], mode);
  const id = sessionId(scope, mode);
  const setupIntent =
    mode === 'setup'
      ? createSessionSetupIntent(
          scope,
          customer?.id ?? null,
          mergeMetadata({}, params.setup_intent_data?.metadata),
          created,
        )
      : null;
  const session = newSession(scope, id, {
    mode,
    lineItems,
    customer,
    customerEmail: params.customer_email ?? null,
    customerCreation: customer
      ? null
      : (params.customer_creation ?? (mode === 'payment' ? 'if_required' : 'always')),
    clientReferenceId: params.client_reference_id ?? null,
    metadata: mergeMetadata({}, params.metadata),
    successUrl: params.success_url ?? null,
    cancelUrl: params.cancel_url ?? null,
    currency: params.currency?.toLowerCase() ?? null,
    allowPromotionCodes: params.allow_promotion_codes ?? null,
    locale: (params.locale as Stripe.Checkout.Session.Locale | undefined) ?? null,
    expiresAt: params.expires_at ?? created + DAY_SECONDS,
    setupIntent: setupIntent?.id ?? null,
    created,
  });
  sessionTable(scope).insert(session);
  lineItemTable(scope).insert({ id, items: lineItems });
  sessionOptions(scope).insert({ id, params });
  return session;
}

/** What completion needs from the create call that the session object does not show. */
type StoredOptions = { id: string; params: CreateSessionParams };

export const sessionOptions = (scope: Scope) =>
  scope.partition.table<StoredOptions>('checkout.session.options');

/** Expires an open session: its payment intent (if a payment was tried) is canceled. */
export function expireSession(scope: Scope, session: WireSession, at: number): WireSession {
  if (session.status !== 'open')
    throw invalidState(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
      undefined,
      'checkout_session_unexpected_state',
    );
  const paymentIntentId = typeof session.payment_intent === 'string' ? session.payment_intent : null;
  const paymentIntent = paymentIntentId ? paymentIntentTable(scope).get(paymentIntentId) : undefined;
  if (paymentIntent && paymentIntent.status !== 'canceled' && paymentIntent.status !== 'succeeded')
    cancelPaymentIntent(scope, paymentIntent, 'abandoned', at);
  const expired = sessionTable(scope).replace({ ...session, status: 'expired', url: null });
  emitEvent(scope, 'checkout.session.expired', expired, undefined, at);
  return expired;
}

const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  customer: z.string().optional(),
  customer_details: z.strictObject({ email: z.string() }).optional(),
  payment_intent: z.string().optional(),
  payment_link: z.string().optional(),
  status: oneOf(['open', 'complete', 'expired']).optional(),
  subscription: z.string().optional(),
});

export const sessionRoutes: Route[] = [
  route('post', '/v1/checkout/sessions', createParams, ({ scope, params }) => createSession(scope, params)),
  route('get', '/v1/checkout/sessions', listParams, ({ scope, params }) => {
    const rows = sessionTable(scope)
      .newestFirst()
      .filter(
        (s) =>
          (params.customer === undefined || s.customer === params.customer) &&
          (params.payment_intent === undefined || s.payment_intent === params.payment_intent) &&
          (params.subscription === undefined || s.subscription === params.subscription) &&
          (params.status === undefined || s.status === params.status) &&
          (params.payment_link === undefined || s.payment_link === params.payment_link) &&
          (params.customer_details === undefined ||
            s.customer_details?.email === params.customer_details.email) &&
          matchesCreated(s.created, params.created),
      );
    return paginate(rows, params, '/v1/checkout/sessions', 'checkout.session');
  }),
  route('get', '/v1/checkout/sessions/:id', z.strictObject({}), ({ scope, path }) =>
    requireSession(scope, path.id ?? ''),
  ),
  route(
    'post',
    '/v1/checkout/sessions/:id',
    z.strictObject({ metadata: metadata().optional() }),
    ({ scope, path, params }) => {
      const session = requireSession(scope, path.id ?? '');
      return sessionTable(scope).replace({
        ...session,
        metadata: mergeMetadata(session.metadata ?? {}, params.metadata),
      });
    },
  ),
  route('post', '/v1/checkout/sessions/:id/expire', z.strictObject({}), ({ scope, path }) =>
    expireSession(scope, requireSession(scope, path.id ?? ''), scope.emulator.clock.nowSeconds()),
  ),
  route(
    'get',
    '/v1/checkout/sessions/:id/line_items',
    z.strictObject(paginationParams),
    ({ scope, path, params }) => {
      const session = requireSession(scope, path.id ?? '');
      const items = lineItemTable(scope).get(session.id)?.items ?? [];
      // Line items keep the order they were given in, oldest first, unlike most lists.
      return paginate(items, params, `/v1/checkout/sessions/${session.id}/line_items`, 'item');
    },
  ),
];
