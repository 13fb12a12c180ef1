import { z } from 'zod';
import { invalidState, parameterMissing } from '../core/errors.ts';
import { bool, emptyable, int, list, metadata, oneOf, str } from '../core/params.ts';
import type { NewSubscription, OneOff } from './create.ts';
import type { ItemChange } from './item-changes.ts';
import type { PaymentSettings, SubscriptionChanges } from './update-plan.ts';

/** Request parameters of the subscription endpoints, and their translation into engine inputs. */
export const prorationBehaviorParam = oneOf(['always_invoice', 'create_prorations', 'none']);
export const paymentBehaviorParam = oneOf(['allow_incomplete', 'default_incomplete', 'error_if_incomplete']);
const collectionMethodParam = oneOf(['charge_automatically', 'send_invoice']);
const missingPaymentMethodParam = oneOf(['cancel', 'create_invoice', 'pause']);
const feedbackParam = oneOf([
  'customer_service',
  'low_quality',
  'missing_features',
  'other',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
]);

const trialSettingsParam = z.strictObject({
  end_behavior: z.strictObject({ missing_payment_method: missingPaymentMethodParam }),
});

const paymentSettingsParam = z.strictObject({
  save_default_payment_method: oneOf(['off', 'on_subscription']).optional(),
  payment_method_types: emptyable(list(z.string())).optional(),
});

/** Stripe bills tax only with Stripe Tax, which the emulator does not have: `enabled=true` is refused. */
const automaticTaxParam = z.strictObject({ enabled: bool() }).transform((value, ctx) => {
  if (value.enabled) {
    ctx.addIssue({
      code: 'custom',
      message: 'Automatic tax is not available in the Stripe emulator.',
      params: { code: 'parameter_invalid' },
      path: ['enabled'],
    });
    return z.NEVER;
  }
  return value;
});

const itemFields = {
  price: str().optional(),
  plan: str().optional(),
  quantity: int({ min: 0 }).optional(),
  metadata: metadata().optional(),
};

const addInvoiceItemsParam = list(
  z.strictObject({ price: str(), quantity: int({ min: 0 }).optional(), metadata: metadata().optional() }),
);

export const trialEndParam = z.union([z.literal('now'), int()]);

export const createParams = z.strictObject({
  customer: str().optional(),
  add_invoice_items: addInvoiceItemsParam.optional(),
  items: list(z.strictObject(itemFields)).optional(),
  trial_end: trialEndParam.optional(),
  trial_period_days: int({ min: 0, max: 730 }).optional(),
  trial_from_plan: bool().optional(),
  trial_settings: trialSettingsParam.optional(),
  default_payment_method: str().optional(),
  payment_behavior: paymentBehaviorParam.optional(),
  cancel_at_period_end: bool().optional(),
  cancel_at: int().optional(),
  metadata: metadata().optional(),
  collection_method: collectionMethodParam.optional(),
  days_until_due: int({ min: 0 }).optional(),
  off_session: bool().optional(),
  proration_behavior: prorationBehaviorParam.optional(),
  billing_cycle_anchor: int().optional(),
  description: z.string().optional(),
  currency: z.string().optional(),
  payment_settings: paymentSettingsParam.optional(),
  automatic_tax: automaticTaxParam.optional(),
});

export const updateParams = z.strictObject({
  add_invoice_items: addInvoiceItemsParam.optional(),
  items: list(
    z.strictObject({
      ...itemFields,
      id: str().optional(),
      deleted: bool().optional(),
      clear_usage: bool().optional(),
      metadata: metadata().optional(),
    }),
  ).optional(),
  trial_end: trialEndParam.optional(),
  trial_settings: trialSettingsParam.optional(),
  default_payment_method: emptyable(z.string()).optional(),
  payment_behavior: paymentBehaviorParam.optional(),
  proration_behavior: prorationBehaviorParam.optional(),
  proration_date: int().optional(),
  cancel_at_period_end: bool().optional(),
  cancel_at: emptyable(int()).optional(),
  cancellation_details: z
    .strictObject({
      comment: emptyable(z.string()).optional(),
      feedback: emptyable(feedbackParam).optional(),
    })
    .optional(),
  pause_collection: emptyable(
    z.strictObject({
      behavior: oneOf(['keep_as_draft', 'mark_uncollectible', 'void']),
      resumes_at: int().optional(),
    }),
  ).optional(),
  billing_cycle_anchor: oneOf(['now', 'unchanged']).optional(),
  metadata: metadata().optional(),
  description: emptyable(z.string()).optional(),
  collection_method: collectionMethodParam.optional(),
  days_until_due: int({ min: 0 }).optional(),
  off_session: bool().optional(),
  payment_settings: paymentSettingsParam.optional(),
  automatic_tax: automaticTaxParam.optional(),
});

export const cancelParams = z.strictObject({
  invoice_now: bool().optional(),
  prorate: bool().optional(),
  cancellation_details: z
    .strictObject({
      comment: emptyable(z.string()).optional(),
      feedback: emptyable(feedbackParam).optional(),
    })
    .optional(),
});

export const resumeParams = z.strictObject({
  billing_cycle_anchor: z
    .union([oneOf(['now', 'unchanged']), z.strictObject({ type: oneOf(['now', 'unchanged']) })])
    .optional(),
  proration_behavior: prorationBehaviorParam.optional(),
  proration_date: int().optional(),
  payment_behavior: oneOf(['resume_on_payment_attempt', 'resume_on_payment_success']).optional(),
});

export const pauseParams = z.strictObject({ type: oneOf(['subscription']).optional() });

/** `items[n][plan]` is the legacy name of `items[n][price]`. */
const priceOfItem = (item: { price?: string | undefined; plan?: string | undefined }) =>
  item.price ?? item.plan;

export function toNewSubscription(params: z.output<typeof createParams>): NewSubscription {
  if (!params.customer) throw parameterMissing('customer');
  const items = (params.items ?? []).map((item, index) => {
    const price = priceOfItem(item);
    if (!price) throw parameterMissing(`items[${index}][price]`);
    return { price, quantity: item.quantity, metadata: item.metadata ?? {} };
  });
  if (items.length === 0) throw parameterMissing('items');
  if (params.trial_end !== undefined && params.trial_period_days !== undefined)
    throw invalidState(
      'You may only specify one of these parameters: trial_end, trial_period_days.',
      'trial_end',
    );
  return {
    customerId: params.customer,
    currency: params.currency,
    items,
    addInvoiceItems: toOneOffs(params.add_invoice_items),
    trialEnd: params.trial_end,
    trialPeriodDays: params.trial_period_days,
    trialFromPlan: params.trial_from_plan,
    billingCycleAnchor: params.billing_cycle_anchor,
    defaultPaymentMethod: params.default_payment_method ?? null,
    paymentBehavior: params.payment_behavior ?? 'allow_incomplete',
    collectionMethod: params.collection_method ?? 'charge_automatically',
    daysUntilDue: params.days_until_due ?? null,
    cancelAtPeriodEnd: params.cancel_at_period_end ?? false,
    cancelAt: params.cancel_at ?? null,
    description: params.description ?? null,
    metadata: params.metadata ?? {},
    prorationBehavior: params.proration_behavior ?? 'create_prorations',
    missingPaymentMethod: params.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice',
    paymentSettings: toPaymentSettings(params.payment_settings),
  };
}

function toOneOffs(items: z.output<typeof addInvoiceItemsParam> | undefined): OneOff[] | undefined {
  return items?.map((item) => ({
    price: item.price,
    quantity: item.quantity ?? 1,
    metadata: item.metadata ?? {},
  }));
}

function toPaymentSettings(
  settings: z.output<typeof paymentSettingsParam> | undefined,
): PaymentSettings | undefined {
  if (!settings) return undefined;
  return {
    saveDefaultPaymentMethod: settings.save_default_payment_method,
    paymentMethodTypes: settings.payment_method_types,
  };
}

export function toItemChanges(items: z.output<typeof updateParams>['items']): ItemChange[] | undefined {
  return items?.map((item) => ({
    id: item.id,
    price: priceOfItem(item),
    quantity: item.quantity,
    metadata: item.metadata,
    deleted: item.deleted,
  }));
}

export function toChanges(params: z.output<typeof updateParams>): SubscriptionChanges {
  const pause = params.pause_collection;
  return {
    items: toItemChanges(params.items),
    addInvoiceItems: toOneOffs(params.add_invoice_items),
    prorationBehavior: params.proration_behavior,
    prorationDate: params.proration_date,
    paymentBehavior: params.payment_behavior,
    cancelAtPeriodEnd: params.cancel_at_period_end,
    cancelAt: params.cancel_at,
    cancellationDetails: params.cancellation_details,
    pauseCollection:
      pause === undefined
        ? undefined
        : pause && { behavior: pause.behavior, resumesAt: pause.resumes_at ?? null },
    trialEnd: params.trial_end,
    billingCycleAnchor: params.billing_cycle_anchor,
    defaultPaymentMethod: params.default_payment_method,
    metadata: params.metadata,
    description: params.description,
    collectionMethod: params.collection_method,
    daysUntilDue: params.days_until_due,
    missingPaymentMethod: params.trial_settings?.end_behavior.missing_payment_method,
    paymentSettings: toPaymentSettings(params.payment_settings),
  };
}
