import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, resourceMissing, StripeError } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, list, mergeMetadata, metadata, oneOf } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { customerTable, requireCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import { assertUsableFor, attachPaymentMethod, resolvePaymentMethod } from './payment-methods.ts';

export type WireSetupIntent = Wire<Stripe.SetupIntent>;

export const setupIntentTable = (scope: Scope) => scope.partition.table<WireSetupIntent>('setup_intent');

export function requireSetupIntent(scope: Scope, id: string, param = 'intent'): WireSetupIntent {
  const setupIntent = setupIntentTable(scope).get(id);
  if (!setupIntent) throw resourceMissing('setup_intent', id, param);
  return setupIntent;
}

export type NewSetupIntent = {
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  paymentMethod: string | null;
  usage: 'off_session' | 'on_session';
  at: number;
};

export function createSetupIntent(scope: Scope, input: NewSetupIntent): WireSetupIntent {
  const id = scope.emulator.random.id('seti', 24);
  const setupIntent: WireSetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${scope.emulator.random.token(32)}`,
    created: input.at,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: scope.partition.livemode,
    mandate: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: input.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: input.paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    usage: input.usage,
  };
  setupIntentTable(scope).insert(setupIntent);
  emitEvent(scope, 'setup_intent.created', setupIntent, undefined, input.at);
  return setupIntent;
}

/**
 * Confirms a setup intent: the card is verified and saved on the intent's customer. A card that
 * declines leaves the intent needing a payment method, with `last_setup_error`, and throws the card error.
 */
export function confirmSetupIntent(
  scope: Scope,
  current: WireSetupIntent,
  paymentMethodId: string,
  at: number,
) {
  if (
    !['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(
      current.status as string,
    )
  )
    throw invalidState(
      `You cannot confirm this SetupIntent because it has a status of ${current.status}.`,
      undefined,
      'setup_intent_unexpected_state',
    );
  const customer = typeof current.customer === 'string' ? current.customer : null;
  const paymentMethod = resolvePaymentMethod(scope, paymentMethodId, 'payment_method', at);
  assertUsableFor(paymentMethod, customer, 'payment_method');
  try {
    if (customer) attachPaymentMethod(scope, paymentMethod.id, customer);
  } catch (error) {
    if (!(error instanceof StripeError) || error.body.type !== 'card_error') throw error;
    const failed = setupIntentTable(scope).replace({
      ...current,
      last_setup_error: {
        code: error.body.code ?? 'card_declined',
        ...(error.body.decline_code ? { decline_code: error.body.decline_code } : {}),
        doc_url: error.body.doc_url ?? '',
        message: error.body.message,
        payment_method: paymentMethod,
        type: 'card_error',
      },
      payment_method: null,
      status: 'requires_payment_method',
    });
    emitEvent(scope, 'setup_intent.setup_failed', failed, undefined, at);
    const withIntent = { setup_intent: failed };
    throw new StripeError(error.status, { ...error.body, ...withIntent, payment_method: paymentMethod });
  }
  const succeeded = setupIntentTable(scope).replace({
    ...current,
    last_setup_error: null,
    latest_attempt: scope.emulator.random.id('setatt', 24),
    payment_method: paymentMethod.id,
    status: 'succeeded',
  });
  emitEvent(scope, 'setup_intent.succeeded', succeeded, undefined, at);
  return succeeded;
}

function nowFor(scope: Scope, customerId: string | null): number {
  const clock = customerId ? customerTable(scope).get(customerId)?.test_clock : null;
  return scope.emulator.nowFor(scope.partition, typeof clock === 'string' ? clock : null);
}

const createParams = z.strictObject({
  customer: z.string().optional(),
  description: z.string().optional(),
  metadata: metadata().optional(),
  payment_method: z.string().optional(),
  payment_method_types: list(z.string()).optional(),
  automatic_payment_methods: z.unknown().optional(),
  usage: oneOf(['off_session', 'on_session']).optional(),
  confirm: bool().optional(),
  return_url: z.string().optional(),
  use_stripe_sdk: bool().optional(),
  payment_method_options: z.unknown().optional(),
  mandate_data: z.unknown().optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  customer: z.string().optional(),
  payment_method: z.string().optional(),
});

export const setupIntentRoutes: Route[] = [
  route('post', '/v1/setup_intents', createParams, ({ scope, params }) => {
    const customer = params.customer ? requireCustomer(scope, params.customer, 'customer').id : null;
    const at = nowFor(scope, customer);
    const paymentMethod = params.payment_method
      ? resolvePaymentMethod(scope, params.payment_method, 'payment_method', at).id
      : null;
    const created = createSetupIntent(scope, {
      customer,
      description: params.description ?? null,
      metadata: mergeMetadata({}, params.metadata),
      paymentMethod,
      usage: params.usage ?? 'off_session',
      at,
    });
    if (!params.confirm || !paymentMethod) return created;
    return confirmSetupIntent(scope, created, paymentMethod, at);
  }),
  route('get', '/v1/setup_intents', listParams, ({ scope, params }) => {
    const rows = setupIntentTable(scope)
      .newestFirst()
      .filter(
        (si) =>
          (params.customer === undefined || si.customer === params.customer) &&
          (params.payment_method === undefined || si.payment_method === params.payment_method) &&
          matchesCreated(si.created, params.created),
      );
    return paginate(rows, params, '/v1/setup_intents', 'setup_intent');
  }),
  route(
    'get',
    '/v1/setup_intents/:id',
    z.strictObject({ client_secret: z.string().optional() }),
    ({ scope, path }) => requireSetupIntent(scope, path.id ?? ''),
  ),
  route(
    'post',
    '/v1/setup_intents/:id/confirm',
    z.strictObject({
      payment_method: z.string().optional(),
      return_url: z.string().optional(),
      use_stripe_sdk: bool().optional(),
      mandate_data: z.unknown().optional(),
      payment_method_options: z.unknown().optional(),
    }),
    ({ scope, path, params }) => {
      const current = requireSetupIntent(scope, path.id ?? '');
      const paymentMethod =
        params.payment_method ?? (typeof current.payment_method === 'string' ? current.payment_method : null);
      if (!paymentMethod)
        throw invalidState(
          "You cannot confirm this SetupIntent because it's missing a payment method.",
          undefined,
          'setup_intent_unexpected_state',
        );
      const customer = typeof current.customer === 'string' ? current.customer : null;
      return confirmSetupIntent(scope, current, paymentMethod, nowFor(scope, customer));
    },
  ),
  route(
    'post',
    '/v1/setup_intents/:id/cancel',
    z.strictObject({
      cancellation_reason: oneOf(['abandoned', 'duplicate', 'requested_by_customer']).optional(),
    }),
    ({ scope, path, params }) => {
      const current = requireSetupIntent(scope, path.id ?? '');
      if (current.status === 'succeeded' || current.status === 'canceled')
        throw invalidState(
          `You cannot cancel this SetupIntent because it has a status of ${current.status}.`,
          undefined,
          'setup_intent_unexpected_state',
        );
      const canceled = setupIntentTable(scope).replace({
        ...current,
        cancellation_reason: params.cancellation_reason ?? null,
        status: 'canceled',
      });
      emitEvent(scope, 'setup_intent.canceled', canceled);
      return canceled;
    },
  ),
];
