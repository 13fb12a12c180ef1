import { z } from 'zod';
import { parameterInvalid, parameterMissing, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { emptyable, int, mergeMetadata, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { addressParam, toAddress } from '../core/shared-params.ts';
import { requireCustomer } from '../customers/index.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';
import { isNonCardType, NON_CARD_TYPES, type NonCardType } from './payment-method-types.ts';
import {
  attachPaymentMethod,
  type BillingDetails,
  createCardPaymentMethod,
  createPaymentMethodOfType,
  detachPaymentMethod,
  emptyBillingDetails,
  paymentMethodTable,
  requirePaymentMethod,
  resolvePaymentMethod,
  type WirePaymentMethod,
} from './payment-methods.ts';
import {
  type TestCard,
  testCardForNumber,
  testCardForPaymentMethodToken,
  testCardForToken,
} from './test-cards.ts';

const billingDetailsParam = z.strictObject({
  address: emptyable(addressParam).optional(),
  email: emptyable(z.string()).optional(),
  name: emptyable(z.string()).optional(),
  phone: emptyable(z.string()).optional(),
  tax_id: z.string().optional(),
});

type BillingDetailsInput = z.output<typeof billingDetailsParam>;

const allowRedisplay = oneOf(['always', 'limited', 'unspecified']);

const cardParam = z.strictObject({
  token: z.string().optional(),
  number: z.string().optional(),
  exp_month: int({ min: 1, max: 12 }).optional(),
  exp_year: int().optional(),
  cvc: z.string().optional(),
  networks: z.unknown().optional(),
});

/** Each type's own hash (`sepa_debit[iban]` …) is checked by its entry in PAYMENT_METHOD_TYPES. */
const typeHashes = Object.fromEntries(NON_CARD_TYPES.map((type) => [type, z.unknown().optional()])) as Record<
  NonCardType,
  z.ZodOptional<z.ZodUnknown>
>;

const createParams = z.strictObject({
  type: oneOf(['card', ...NON_CARD_TYPES]).optional(),
  card: cardParam.optional(),
  ...typeHashes,
  billing_details: billingDetailsParam.optional(),
  metadata: metadata().optional(),
  allow_redisplay: allowRedisplay.optional(),
  customer: z.string().optional(),
  payment_method: z.string().optional(),
});

const updateParams = z.strictObject({
  billing_details: billingDetailsParam.optional(),
  metadata: metadata().optional(),
  allow_redisplay: allowRedisplay.optional(),
  card: z
    .strictObject({ exp_month: int({ min: 1, max: 12 }).optional(), exp_year: int().optional() })
    .optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  customer: z.string().optional(),
  type: z.string().optional(),
  allow_redisplay: allowRedisplay.optional(),
});

function applyBillingDetails(
  current: BillingDetails,
  input: BillingDetailsInput | undefined,
): BillingDetails {
  if (!input) return current;
  return {
    address:
      input.address === undefined
        ? current.address
        : input.address
          ? toAddress(input.address)
          : emptyAddress(),
    email: input.email === undefined ? current.email : input.email,
    name: input.name === undefined ? current.name : input.name,
    phone: input.phone === undefined ? current.phone : input.phone,
    tax_id: input.tax_id ?? current.tax_id,
  };
}

const emptyAddress = () => emptyBillingDetails().address;

/** The test card behind `card[token]` (`tok_visa`, or a `pm_card_…` token) or a test `card[number]`. */
function cardFromParams(card: z.output<typeof cardParam> | undefined): TestCard {
  if (!card) throw parameterMissing('card');
  if (card.token) {
    const found = testCardForToken(card.token) ?? testCardForPaymentMethodToken(card.token);
    if (!found) throw resourceMissing('token', card.token, 'card[token]');
    return found;
  }
  if (!card.number) throw parameterMissing('card[number]');
  const found = testCardForNumber(card.number);
  if (!found)
    throw parameterInvalid(
      'card[number]',
      'Your card number is incorrect. The emulator accepts the numbers of Stripe test cards only.',
    );
  return found;
}

function createPaymentMethod(scope: Scope, params: z.output<typeof createParams>): WirePaymentMethod {
  if (params.payment_method) {
    const source = resolvePaymentMethod(scope, params.payment_method, 'payment_method');
    return params.customer ? attachPaymentMethod(scope, source.id, params.customer) : source;
  }
  if (params.type === undefined) throw parameterMissing('type');
  const { type } = params;
  const stray = ['card', ...NON_CARD_TYPES].find((key) => key !== type && params[key as keyof typeof params]);
  if (stray)
    throw parameterInvalid(
      stray,
      `You passed \`${stray}\` but the payment method's type is \`${type}\`; pass only the hash of its own type.`,
    );
  if (isNonCardType(type))
    return createPaymentMethodOfType(
      scope,
      {
        type,
        details: params[type],
        billingDetails: applyBillingDetails(emptyBillingDetails(), params.billing_details),
        metadata: mergeMetadata({}, params.metadata),
        allowRedisplay: params.allow_redisplay,
      },
      scope.emulator.clock.nowSeconds(),
    );
  return createCardPaymentMethod(
    scope,
    {
      card: cardFromParams(params.card),
      expMonth: params.card?.exp_month,
      expYear: params.card?.exp_year,
      billingDetails: applyBillingDetails(emptyBillingDetails(), params.billing_details),
      metadata: mergeMetadata({}, params.metadata),
      allowRedisplay: params.allow_redisplay,
    },
    scope.emulator.clock.nowSeconds(),
  );
}

function updatePaymentMethod(scope: Scope, id: string, params: z.output<typeof updateParams>) {
  const before = requirePaymentMethod(scope, id);
  const after: WirePaymentMethod = {
    ...before,
    billing_details: applyBillingDetails(before.billing_details, params.billing_details),
    metadata: mergeMetadata(before.metadata ?? {}, params.metadata),
    ...(params.allow_redisplay ? { allow_redisplay: params.allow_redisplay } : {}),
    ...(before.card && params.card
      ? {
          card: {
            ...before.card,
            exp_month: params.card.exp_month ?? before.card.exp_month,
            exp_year: params.card.exp_year ?? before.card.exp_year,
          },
        }
      : {}),
  };
  paymentMethodTable(scope).replace(after);
  const previous = previousAttributes(before, after);
  if (previous) emitEvent(scope, 'payment_method.updated', after, previous);
  return after;
}

function listFor(
  scope: Scope,
  params: z.output<typeof listParams>,
  customer: string | undefined,
  url: string,
) {
  if (customer !== undefined) requireCustomer(scope, customer, 'customer');
  const rows = paymentMethodTable(scope)
    .newestFirst()
    .filter(
      (pm) =>
        (customer === undefined || pm.customer === customer) &&
        (params.type === undefined || pm.type === params.type) &&
        (params.allow_redisplay === undefined || pm.allow_redisplay === params.allow_redisplay),
    );
  return paginate(rows, params, url, 'payment_method');
}

export const paymentMethodRoutes: Route[] = [
  route('post', '/v1/payment_methods', createParams, ({ scope, params }) =>
    createPaymentMethod(scope, params),
  ),
  route('get', '/v1/payment_methods', listParams, ({ scope, params }) => {
    if (params.customer === undefined) throw parameterMissing('customer');
    return listFor(scope, params, params.customer, '/v1/payment_methods');
  }),
  route('get', '/v1/payment_methods/:id', z.strictObject({}), ({ scope, path }) =>
    resolvePaymentMethod(scope, path.id ?? '', 'id'),
  ),
  route('post', '/v1/payment_methods/:id', updateParams, ({ scope, path, params }) =>
    updatePaymentMethod(scope, path.id ?? '', params),
  ),
  route(
    'post',
    '/v1/payment_methods/:id/attach',
    z.strictObject({ customer: str() }),
    ({ scope, path, params }) => attachPaymentMethod(scope, path.id ?? '', params.customer),
  ),
  route('post', '/v1/payment_methods/:id/detach', z.strictObject({}), ({ scope, path }) =>
    detachPaymentMethod(scope, path.id ?? ''),
  ),
  route(
    'get',
    '/v1/customers/:customer/payment_methods',
    listParams.omit({ customer: true }),
    ({ scope, path, params }) =>
      listFor(scope, params, path.customer ?? '', `/v1/customers/${path.customer}/payment_methods`),
  ),
  route('get', '/v1/customers/:customer/payment_methods/:id', z.strictObject({}), ({ scope, path }) => {
    const paymentMethod = paymentMethodTable(scope).get(path.id ?? '');
    requireCustomer(scope, path.customer ?? '', 'customer');
    if (!paymentMethod || paymentMethod.customer !== path.customer)
      throw resourceMissing('payment_method', path.id ?? '', 'payment_method');
    return paymentMethod;
  }),
];
