import { z } from 'zod';
import { createdFilterParam, paginationParams } from '../core/list.ts';
import { bool, emptyable, int, list, metadata, oneOf, str } from '../core/params.ts';

/** The parameters of the payment intent endpoints. */
const captureMethod = oneOf(['automatic', 'automatic_async', 'manual']);
const setupFutureUsage = oneOf(['off_session', 'on_session']);

const sharedFields = {
  description: z.string().optional(),
  metadata: metadata().optional(),
  payment_method: z.string().optional(),
  payment_method_types: list(z.string()).optional(),
  allowed_payment_method_types: list(z.string()).optional(),
  excluded_payment_method_types: list(z.string()).optional(),
  payment_method_options: z.unknown().optional(),
  receipt_email: z.string().optional(),
  statement_descriptor: z.string().optional(),
  statement_descriptor_suffix: z.string().optional(),
  transfer_group: z.string().optional(),
  shipping: z.unknown().optional(),
};

export const createParams = z.strictObject({
  ...sharedFields,
  amount: int(),
  currency: str(),
  automatic_payment_methods: z
    .strictObject({ enabled: bool(), allow_redirects: oneOf(['always', 'never']).optional() })
    .optional(),
  capture_method: captureMethod.optional(),
  confirm: bool().optional(),
  confirmation_method: oneOf(['automatic', 'manual']).optional(),
  customer: z.string().optional(),
  error_on_requires_action: bool().optional(),
  off_session: z.union([bool(), oneOf(['one_off', 'recurring'])]).optional(),
  return_url: z.string().optional(),
  setup_future_usage: setupFutureUsage.optional(),
  use_stripe_sdk: bool().optional(),
  mandate_data: z.unknown().optional(),
  radar_options: z.unknown().optional(),
});

export const updateParams = z.strictObject({
  ...sharedFields,
  amount: int().optional(),
  currency: str().optional(),
  customer: z.string().optional(),
  capture_method: captureMethod.optional(),
  setup_future_usage: emptyable(setupFutureUsage).optional(),
  description: emptyable(z.string()).optional(),
  receipt_email: emptyable(z.string()).optional(),
});

export const confirmParams = z.strictObject({
  payment_method: z.string().optional(),
  off_session: z.union([bool(), oneOf(['one_off', 'recurring'])]).optional(),
  return_url: z.string().optional(),
  setup_future_usage: emptyable(setupFutureUsage).optional(),
  capture_method: captureMethod.optional(),
  error_on_requires_action: bool().optional(),
  use_stripe_sdk: bool().optional(),
  receipt_email: emptyable(z.string()).optional(),
  payment_method_options: z.unknown().optional(),
  payment_method_types: list(z.string()).optional(),
  allowed_payment_method_types: list(z.string()).optional(),
  excluded_payment_method_types: list(z.string()).optional(),
  mandate_data: z.unknown().optional(),
  radar_options: z.unknown().optional(),
  shipping: z.unknown().optional(),
});

export const listParams = z.strictObject({
  ...paginationParams,
  created: createdFilterParam,
  customer: z.string().optional(),
});
