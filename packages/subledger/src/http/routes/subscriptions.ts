import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AccessService } from '../../access/index.ts';
import {
  type Billing,
  cancelAtPeriodEnd,
  cancelNow,
  changeQuantity,
  portalSession,
  resume,
  type SubscriptionState,
} from '../../billing/index.ts';
import type { Api } from '../api.ts';
import type { ApiEnv } from '../guard.ts';
import { errorSchema } from '../problems.ts';
import { accountIdParams } from '../schemas.ts';
import { COMMON_PROBLEMS, httpUrl, idempotencyHeaders, json, KEYS_ONLY, ready } from './common.ts';

export const subscriptionShape = {
  id: z.string(),
  status: z.string(),
  price: z.string(),
  quantity: z.number().int(),
  cancel_at_period_end: z.boolean(),
  cancel_at: z.number().int().nullable().openapi({ description: 'when a scheduled cancel takes effect' }),
};

const subscriptionSchema = z.object(subscriptionShape).openapi('Subscription');

export const subscriptionJson = (state: SubscriptionState) => ({
  id: state.id,
  status: state.status,
  price: state.priceId,
  quantity: state.quantity,
  cancel_at_period_end: state.cancelAtPeriodEnd,
  cancel_at: state.cancelAt,
});

const ACTION_PROBLEMS = {
  ...COMMON_PROBLEMS,
  404: json(errorSchema, '`subscription_not_found`: the account has no live subscription'),
  409: json(errorSchema, '`plan_unchanged`: the subscription already is that way'),
  502: json(errorSchema, '`stripe_refused`'),
  503: json(errorSchema, '`stripe_unavailable` or `stripe_not_configured`'),
};

const action = <B extends z.ZodType>(path: string, summary: string, body: B) =>
  createRoute({
    method: 'post',
    path: `/v1/accounts/{account_id}${path}`,
    tags: ['Billing'],
    summary,
    security: KEYS_ONLY,
    request: {
      params: accountIdParams,
      headers: idempotencyHeaders,
      body: { ...json(body, 'the change'), required: true },
    },
    responses: {
      200: json(subscriptionSchema, 'the subscription, as Stripe has it now'),
      ...ACTION_PROBLEMS,
    },
  });

export const quantityRoute = action(
  '/subscription/quantity',
  'Change the number of seats, prorated from now',
  z.strictObject({ quantity: z.number().int('must be an integer').min(1, 'must be at least 1').max(10_000) }),
);

export const cancelRoute = action(
  '/subscription/cancel',
  'Cancel at the end of the paid period (default), or now',
  z.strictObject({
    at_period_end: z
      .boolean()
      .optional()
      .openapi({ description: 'true (default): access lasts until the period ends; false: ends now' }),
  }),
);

export const resumeRoute = action(
  '/subscription/resume',
  'Take back a cancel scheduled for the end of the period',
  z.strictObject({}),
);

export const portalRoute = createRoute({
  method: 'post',
  path: '/v1/accounts/{account_id}/portal',
  tags: ['Billing'],
  summary: "A Stripe billing portal session for the account's customer",
  security: KEYS_ONLY,
  request: {
    params: accountIdParams,
    headers: idempotencyHeaders,
    body: {
      ...json(z.strictObject({ return_url: httpUrl }), 'where the portal sends the user back'),
      required: true,
    },
  },
  responses: { 200: json(z.object({ url: z.string() }), 'send the user here'), ...ACTION_PROBLEMS },
});

export const SUBSCRIPTION_ROUTES = [portalRoute, quantityRoute, cancelRoute, resumeRoute];

type Deps = { billing: Billing | null; access: AccessService };

export function mountSubscriptionRoutes(api: Api, deps: Deps): void {
  api.openapi(api.guarded(portalRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const { return_url } = c.req.valid('json');
    return c.json(await portalSession(ready(deps), account_id, return_url, keyOf(c)), 200);
  });
  api.openapi(api.guarded(quantityRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const { quantity } = c.req.valid('json');
    return answer(c, deps, account_id, await changeQuantity(ready(deps), account_id, quantity, keyOf(c)));
  });
  api.openapi(api.guarded(cancelRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const cancel = c.req.valid('json').at_period_end === false ? cancelNow : cancelAtPeriodEnd;
    return answer(c, deps, account_id, await cancel(ready(deps), account_id, keyOf(c)));
  });
  api.openapi(api.guarded(resumeRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    return answer(c, deps, account_id, await resume(ready(deps), account_id, keyOf(c)));
  });
}

function answer(c: Context<ApiEnv>, deps: Deps, accountId: string, state: SubscriptionState) {
  deps.access.invalidate([{ kind: 'account', id: accountId }]);
  return c.json(subscriptionJson(state), 200);
}

const keyOf = (c: Context) => ({ idempotencyKey: c.req.header('idempotency-key') || undefined });
