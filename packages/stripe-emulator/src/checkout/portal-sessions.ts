import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, parameterMissing, resourceMissing } from '../core/errors.ts';
import { int, list, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { requireCustomer } from '../customers/index.ts';
import { emitEvent } from '../events/emit.ts';
import { publicUrl } from '../payments/index.ts';
import { type Route, route } from '../server/route.ts';
import { defaultConfiguration, requireConfiguration } from './portal-configurations.ts';

export type WirePortalSession = Wire<Stripe.BillingPortal.Session>;
type Flow = NonNullable<WirePortalSession['flow']>;

export const portalSessionTable = (scope: Scope) =>
  scope.partition.table<WirePortalSession>('billing_portal.session');

const subscriptionRef = z.strictObject({ subscription: str() });

const flowDataParam = z.strictObject({
  type: oneOf([
    'payment_method_update',
    'subscription_cancel',
    'subscription_update',
    'subscription_update_confirm',
  ]),
  after_completion: z
    .strictObject({
      type: oneOf(['hosted_confirmation', 'portal_homepage', 'redirect']),
      hosted_confirmation: z.strictObject({ custom_message: z.string().optional() }).optional(),
      redirect: z.strictObject({ return_url: str() }).optional(),
    })
    .optional(),
  subscription_cancel: z.strictObject({ subscription: str(), retention: z.unknown().optional() }).optional(),
  subscription_update: subscriptionRef.optional(),
  subscription_update_confirm: z
    .strictObject({
      subscription: str(),
      items: list(
        z.strictObject({
          id: str(),
          price: str().optional(),
          quantity: int({ min: 0 }).optional(),
        }),
      ),
      discounts: z.unknown().optional(),
    })
    .optional(),
});

type FlowData = z.output<typeof flowDataParam>;

const createParams = z.strictObject({
  customer: str().optional(),
  return_url: z.string().optional(),
  configuration: str().optional(),
  flow_data: flowDataParam.optional(),
  locale: z.string().optional(),
  on_behalf_of: z.string().optional(),
});

/** The subscription a flow acts on must exist and belong to the session's customer. */
function checkSubscription(scope: Scope, id: string, customer: string, param: string): string {
  const subscription = scope.partition.table<Wire<Stripe.Subscription>>('subscription').get(id);
  if (!subscription) throw resourceMissing('subscription', id, param);
  if (subscription.customer !== customer)
    throw invalidState(`The subscription ${id} does not belong to the customer ${customer}.`, param);
  return id;
}

function toFlow(scope: Scope, data: FlowData, customer: string): Flow {
  const after = data.after_completion;
  const flow: Flow = {
    after_completion: {
      hosted_confirmation:
        after?.type === 'hosted_confirmation'
          ? { custom_message: after.hosted_confirmation?.custom_message ?? null }
          : null,
      redirect:
        after?.type === 'redirect' && after.redirect ? { return_url: after.redirect.return_url } : null,
      type: after?.type ?? 'portal_homepage',
    },
    customer_update: null,
    subscription_cancel: null,
    subscription_pause: null,
    subscription_update: null,
    subscription_update_confirm: null,
    type: data.type,
  };
  const param = `flow_data[${data.type}][subscription]`;
  if (data.type === 'subscription_cancel') {
    const id = data.subscription_cancel?.subscription;
    if (!id) throw parameterMissing(param);
    flow.subscription_cancel = {
      retention: null,
      subscription: checkSubscription(scope, id, customer, param),
    };
  }
  if (data.type === 'subscription_update') {
    const id = data.subscription_update?.subscription;
    if (!id) throw parameterMissing(param);
    flow.subscription_update = { subscription: checkSubscription(scope, id, customer, param) };
  }
  if (data.type === 'subscription_update_confirm') {
    const confirm = data.subscription_update_confirm;
    if (!confirm) throw parameterMissing(param);
    flow.subscription_update_confirm = {
      discounts: null,
      items: confirm.items.map((item) => ({
        id: item.id,
        price: item.price ?? null,
        ...(item.quantity !== undefined ? { quantity: item.quantity } : {}),
      })),
      subscription: checkSubscription(scope, confirm.subscription, customer, param),
    };
  }
  return flow;
}

export function createPortalSession(scope: Scope, params: z.output<typeof createParams>): WirePortalSession {
  if (!params.customer) throw parameterMissing('customer');
  const customer = requireCustomer(scope, params.customer, 'customer');
  const configuration = params.configuration
    ? requireConfiguration(scope, params.configuration, 'configuration')
    : defaultConfiguration(scope);
  if (!configuration.active)
    throw invalidState(
      'The configuration provided is inactive. Provide an active configuration.',
      'configuration',
    );
  const id = scope.emulator.random.id('bps', 24);
  const session: WirePortalSession = {
    id,
    object: 'billing_portal.session',
    configuration: configuration.id,
    created: scope.emulator.clock.nowSeconds(),
    customer: customer.id,
    customer_account: null,
    flow: params.flow_data ? toFlow(scope, params.flow_data, customer.id) : null,
    livemode: scope.partition.livemode,
    locale: (params.locale as Stripe.BillingPortal.Session.Locale | undefined) ?? null,
    on_behalf_of: params.on_behalf_of ?? null,
    return_url: params.return_url ?? configuration.default_return_url,
    url: publicUrl(`/_emulator/billing_portal/${id}`),
  };
  portalSessionTable(scope).insert(session);
  emitEvent(scope, 'billing_portal.session.created', session);
  return session;
}

export const portalSessionRoutes: Route[] = [
  route('post', '/v1/billing_portal/sessions', createParams, ({ scope, params }) =>
    createPortalSession(scope, params),
  ),
];
