import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { bool, emptyable, int, list, mergeMetadata, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';

export type WireConfiguration = Wire<Stripe.BillingPortal.Configuration>;
type Features = WireConfiguration['features'];

export const configurationTable = (scope: Scope) =>
  scope.partition.table<WireConfiguration>('billing_portal.configuration');

export function requireConfiguration(scope: Scope, id: string, param = 'configuration'): WireConfiguration {
  const configuration = configurationTable(scope).get(id);
  if (!configuration) throw resourceMissing('billing_portal.configuration', id, param);
  return configuration;
}

const prorationBehavior = oneOf(['always_invoice', 'create_prorations', 'none']);

const featuresParam = z.strictObject({
  customer_update: z
    .strictObject({
      enabled: bool().optional(),
      allowed_updates: emptyable(
        list(oneOf(['address', 'email', 'name', 'phone', 'shipping', 'tax_id'])),
      ).optional(),
    })
    .optional(),
  invoice_history: z.strictObject({ enabled: bool() }).optional(),
  payment_method_update: z
    .strictObject({ enabled: bool(), payment_method_configuration: emptyable(str()).optional() })
    .optional(),
  subscription_cancel: z
    .strictObject({
      enabled: bool().optional(),
      mode: oneOf(['at_period_end', 'immediately']).optional(),
      proration_behavior: prorationBehavior.optional(),
      cancellation_reason: z
        .strictObject({ enabled: bool(), options: emptyable(list(z.string())).optional() })
        .optional(),
    })
    .optional(),
  subscription_pause: z.strictObject({ enabled: bool().optional() }).optional(),
  subscription_update: z
    .strictObject({
      enabled: bool().optional(),
      default_allowed_updates: emptyable(list(oneOf(['price', 'promotion_code', 'quantity']))).optional(),
      proration_behavior: prorationBehavior.optional(),
      billing_cycle_anchor: oneOf(['now', 'unchanged']).optional(),
      trial_update_behavior: oneOf(['continue_trial', 'end_trial']).optional(),
      products: emptyable(
        list(
          z.strictObject({
            product: str(),
            prices: list(str()),
            adjustable_quantity: z
              .strictObject({ enabled: bool(), maximum: int().optional(), minimum: int().optional() })
              .optional(),
          }),
        ),
      ).optional(),
      schedule_at_period_end: z
        .strictObject({
          conditions: list(
            z.strictObject({ type: oneOf(['decreasing_item_amount', 'shortening_interval']) }),
          ),
        })
        .optional(),
    })
    .optional(),
});

type FeaturesInput = z.output<typeof featuresParam>;

const configurationFields = {
  business_profile: z
    .strictObject({
      headline: emptyable(z.string()).optional(),
      privacy_policy_url: z.string().optional(),
      terms_of_service_url: z.string().optional(),
    })
    .optional(),
  default_return_url: emptyable(z.string()).optional(),
  login_page: z.strictObject({ enabled: bool() }).optional(),
  metadata: metadata().optional(),
  name: emptyable(z.string()).optional(),
};

const createParams = z.strictObject({ ...configurationFields, features: featuresParam });
const updateParams = z.strictObject({
  ...configurationFields,
  features: featuresParam.optional(),
  active: bool().optional(),
});

type ConfigurationInput = Partial<z.output<typeof updateParams>>;

/** Every feature off, as a configuration created through the API starts. */
function disabledFeatures(): Features {
  return {
    customer_update: { allowed_updates: [], enabled: false },
    invoice_history: { enabled: false },
    payment_method_update: { enabled: false, payment_method_configuration: null },
    subscription_cancel: {
      cancellation_reason: { enabled: false, feedback_options: null, options: [] },
      enabled: false,
      mode: 'at_period_end',
      proration_behavior: 'none',
    },
    subscription_pause: { duration: { interval_options: [], type: 'indefinite' }, enabled: false },
    subscription_update: {
      billing_cycle_anchor: null,
      default_allowed_updates: [],
      enabled: false,
      products: null,
      proration_behavior: 'none',
      schedule_at_period_end: { conditions: [] },
      trial_update_behavior: 'end_trial',
    },
  };
}

function applyFeatures(current: Features, input: FeaturesInput | undefined): Features {
  if (!input) return current;
  const next = structuredClone(current);
  const { customer_update: customer, subscription_cancel: cancel, subscription_update: update } = input;
  if (customer?.enabled !== undefined) next.customer_update.enabled = customer.enabled;
  if (customer?.allowed_updates !== undefined)
    next.customer_update.allowed_updates = customer.allowed_updates ?? [];
  if (input.invoice_history) next.invoice_history.enabled = input.invoice_history.enabled;
  if (input.payment_method_update) {
    next.payment_method_update.enabled = input.payment_method_update.enabled;
    if (input.payment_method_update.payment_method_configuration !== undefined)
      next.payment_method_update.payment_method_configuration =
        input.payment_method_update.payment_method_configuration;
  }
  if (cancel?.enabled !== undefined) next.subscription_cancel.enabled = cancel.enabled;
  if (cancel?.mode) next.subscription_cancel.mode = cancel.mode;
  if (cancel?.proration_behavior) next.subscription_cancel.proration_behavior = cancel.proration_behavior;
  if (cancel?.cancellation_reason) {
    next.subscription_cancel.cancellation_reason.enabled = cancel.cancellation_reason.enabled;
    if (cancel.cancellation_reason.options !== undefined)
      next.subscription_cancel.cancellation_reason.options = cancel.cancellation_reason.options ?? [];
  }
  if (input.subscription_pause?.enabled !== undefined)
    next.subscription_pause.enabled = input.subscription_pause.enabled;
  if (update) applySubscriptionUpdate(next.subscription_update, update);
  return next;
}

function applySubscriptionUpdate(
  target: Features['subscription_update'],
  update: NonNullable<FeaturesInput['subscription_update']>,
): void {
  if (update.enabled !== undefined) target.enabled = update.enabled;
  if (update.default_allowed_updates !== undefined)
    target.default_allowed_updates = update.default_allowed_updates ?? [];
  if (update.proration_behavior) target.proration_behavior = update.proration_behavior;
  if (update.billing_cycle_anchor) target.billing_cycle_anchor = update.billing_cycle_anchor;
  if (update.trial_update_behavior) target.trial_update_behavior = update.trial_update_behavior;
  if (update.schedule_at_period_end) target.schedule_at_period_end = update.schedule_at_period_end;
  if (update.products !== undefined)
    target.products =
      update.products?.map((product) => ({
        adjustable_quantity: {
          enabled: product.adjustable_quantity?.enabled ?? false,
          maximum: product.adjustable_quantity?.maximum ?? null,
          minimum: product.adjustable_quantity?.minimum ?? 1,
        },
        prices: product.prices,
        product: product.product,
      })) ?? null;
}

function applyInput(current: WireConfiguration, input: ConfigurationInput, now: number): WireConfiguration {
  const profile = input.business_profile;
  return {
    ...current,
    active: input.active ?? current.active,
    business_profile: {
      headline: profile?.headline !== undefined ? profile.headline : current.business_profile.headline,
      privacy_policy_url: profile?.privacy_policy_url ?? current.business_profile.privacy_policy_url,
      terms_of_service_url: profile?.terms_of_service_url ?? current.business_profile.terms_of_service_url,
    },
    default_return_url:
      input.default_return_url !== undefined ? input.default_return_url : current.default_return_url,
    features: applyFeatures(current.features, input.features),
    login_page: input.login_page
      ? { enabled: input.login_page.enabled, url: input.login_page.enabled ? current.login_page.url : null }
      : current.login_page,
    metadata: mergeMetadata(current.metadata ?? {}, input.metadata),
    name: input.name !== undefined ? input.name : current.name,
    updated: now,
  };
}

function blankConfiguration(scope: Scope, isDefault: boolean, now: number): WireConfiguration {
  return {
    id: scope.emulator.random.id('bpc', 24),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: { headline: null, privacy_policy_url: null, terms_of_service_url: null },
    created: now,
    default_return_url: null,
    features: disabledFeatures(),
    is_default: isDefault,
    livemode: scope.partition.livemode,
    login_page: { enabled: false, url: null },
    metadata: {},
    name: null,
    updated: now,
  };
}

/**
 * The account's default configuration. Real accounts save one in the Dashboard; the emulator makes
 * it on first use with what the Dashboard offers by default: invoices, card updates, customer
 * details and cancellation at period end.
 */
export function defaultConfiguration(scope: Scope): WireConfiguration {
  const existing = [...configurationTable(scope).values()].find((configuration) => configuration.is_default);
  if (existing) return existing;
  const now = scope.emulator.clock.nowSeconds();
  const configuration = applyInput(
    blankConfiguration(scope, true, now),
    {
      features: {
        customer_update: { enabled: true, allowed_updates: ['email', 'address', 'name', 'phone', 'tax_id'] },
        invoice_history: { enabled: true },
        payment_method_update: { enabled: true },
        subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'none' },
      },
    },
    now,
  );
  configurationTable(scope).insert(configuration);
  emitEvent(scope, 'billing_portal.configuration.created', configuration);
  return configuration;
}

const listParams = z.strictObject({
  ...paginationParams,
  active: bool().optional(),
  is_default: bool().optional(),
});

export const configurationRoutes: Route[] = [
  route('post', '/v1/billing_portal/configurations', createParams, ({ scope, params }) => {
    const now = scope.emulator.clock.nowSeconds();
    const configuration = applyInput(blankConfiguration(scope, false, now), params, now);
    configurationTable(scope).insert(configuration);
    emitEvent(scope, 'billing_portal.configuration.created', configuration);
    return configuration;
  }),
  route('get', '/v1/billing_portal/configurations', listParams, ({ scope, params }) => {
    const rows = configurationTable(scope)
      .newestFirst()
      .filter(
        (c) =>
          (params.active === undefined || c.active === params.active) &&
          (params.is_default === undefined || c.is_default === params.is_default),
      );
    return paginate(rows, params, '/v1/billing_portal/configurations', 'billing_portal.configuration');
  }),
  route('get', '/v1/billing_portal/configurations/:id', z.strictObject({}), ({ scope, path }) =>
    requireConfiguration(scope, path.id ?? '', 'configuration'),
  ),
  route('post', '/v1/billing_portal/configurations/:id', updateParams, ({ scope, path, params }) => {
    const before = requireConfiguration(scope, path.id ?? '', 'configuration');
    const after = applyInput(before, params, scope.emulator.clock.nowSeconds());
    configurationTable(scope).replace(after);
    const previous = previousAttributes(before, after);
    if (previous) emitEvent(scope, 'billing_portal.configuration.updated', after, previous);
    return after;
  }),
];
