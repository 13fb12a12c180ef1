import { createRoute, z } from '@hono/zod-openapi';
import type { AccessService } from '../../access/index.ts';
import { type Billing, startCheckout, syncCheckout } from '../../billing/index.ts';
import type { Catalog } from '../../catalog/index.ts';
import { accountIdSchema } from '../../sync/index.ts';
import type { Api } from '../api.ts';
import { errorSchema } from '../problems.ts';
import { accountSchema, entitlementsSchema } from '../schemas.ts';
import { entitlementsJson } from './access.ts';
import { COMMON_PROBLEMS, httpUrl, idempotencyHeaders, json, KEYS_ONLY, ready, SECURED } from './common.ts';

const checkoutBodySchema = z
  .strictObject({
    account_id: accountIdSchema.meta({
      example: 'acct_42',
      description: 'the paying account (team, building…)',
    }),
    plan: z.string().min(1).max(200).optional().openapi({ example: 'pro', description: 'a catalog plan id' }),
    price: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ example: 'pro_monthly', description: 'a price id or lookup_key (instead of plan)' }),
    mode: z.enum(['subscription', 'payment']).optional().openapi({
      description: '`payment` for one-time purchases such as credit top-ups; default subscription',
    }),
    quantity: z.number().int('must be an integer').min(1, 'must be at least 1').max(10_000).optional(),
    trial_days: z.number().int('must be an integer').min(0).max(730).optional(),
    success_url: httpUrl,
    cancel_url: httpUrl,
    metadata: z
      .record(z.string().min(1).max(40), z.string().max(500))
      .refine((value) => Object.keys(value).length <= 40, 'must have at most 40 keys')
      .optional(),
    credits: z
      .strictObject({
        feature: z
          .string()
          .min(1)
          .max(64)
          .openapi({ example: 'ai_credits', description: 'a credits feature' }),
        amount: z.number().int('must be an integer').min(1, 'must be at least 1').max(1_000_000_000),
      })
      .optional()
      .openapi({
        description: 'with `mode: payment`: the credits each unit buys, granted once the payment succeeds',
      }),
  })
  .refine((body) => (body.plan === undefined) !== (body.price === undefined), {
    message: 'name exactly one of plan and price',
    path: ['plan'],
  })
  .refine((body) => body.credits === undefined || body.mode === 'payment', {
    message: 'credits are bought with mode: payment',
    path: ['credits'],
  })
  .openapi('CheckoutRequest');

const checkoutSchema = z
  .object({
    session_id: z.string(),
    url: z.string().openapi({ description: 'send the buyer here' }),
    customer_id: z.string(),
    reused: z.boolean().openapi({ description: 'an open session of the same purchase was handed out again' }),
  })
  .openapi('Checkout');

export const checkoutRoute = createRoute({
  method: 'post',
  path: '/v1/checkout',
  tags: ['Billing'],
  summary: 'A Stripe Checkout URL for a plan, a price or a one-time top-up',
  description:
    'Concurrent requests for one account get one customer and one open session. `subscription_exists` ' +
    '(409) when the account already has a live subscription: change its plan instead.',
  security: KEYS_ONLY,
  request: {
    headers: idempotencyHeaders,
    body: { ...json(checkoutBodySchema, 'what to buy'), required: true },
  },
  responses: {
    200: json(checkoutSchema, 'the session'),
    ...COMMON_PROBLEMS,
    409: json(errorSchema, '`subscription_exists`'),
    502: json(errorSchema, '`stripe_refused`'),
    503: json(errorSchema, '`stripe_unavailable`'),
  },
});

const sessionParams = z.object({
  session_id: z
    .string()
    .regex(/^cs_\w{1,200}$/, 'must be a checkout session id (cs_…)')
    .openapi({ param: { name: 'session_id', in: 'path' }, example: 'cs_test_a1b2' }),
});

export const checkoutSyncRoute = createRoute({
  method: 'post',
  path: '/v1/checkout/{session_id}/sync',
  tags: ['Billing'],
  summary: "The success page: read the session's account from Stripe now; its fresh entitlements",
  security: SECURED,
  request: { params: sessionParams },
  responses: {
    200: json(z.object({ account: accountSchema, entitlements: entitlementsSchema }), 'the account, synced'),
    ...COMMON_PROBLEMS,
    404: json(errorSchema, '`checkout_session_not_found`'),
    503: json(errorSchema, '`stripe_unavailable`'),
  },
});

export const BILLING_ROUTES = [checkoutRoute, checkoutSyncRoute];

export function mountBillingRoutes(
  api: Api,
  deps: {
    billing: Billing | null;
    catalog: Catalog;
    access: AccessService;
    credits: { grantPending: () => Promise<number> };
  },
): void {
  api.openapi(api.guarded(checkoutRoute, 'write'), async (c) => {
    const body = c.req.valid('json');
    api.authorizeAccount(c, body.account_id);
    const result = await startCheckout(ready(deps), deps.catalog, {
      accountId: body.account_id,
      plan: body.plan,
      price: body.price,
      ...(body.mode ? { mode: body.mode } : {}),
      ...(body.quantity !== undefined ? { quantity: body.quantity } : {}),
      ...(body.trial_days !== undefined ? { trialDays: body.trial_days } : {}),
      successUrl: body.success_url,
      cancelUrl: body.cancel_url,
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(body.credits ? { topUp: { creditType: body.credits.feature, amount: body.credits.amount } } : {}),
      ...(c.req.valid('header')['idempotency-key']
        ? { idempotencyKey: c.req.valid('header')['idempotency-key'] }
        : {}),
    });
    return c.json(
      {
        session_id: result.sessionId,
        url: result.url,
        customer_id: result.customerId,
        reused: result.reused,
      },
      200,
    );
  });
  api.openapi(api.guarded(checkoutSyncRoute, 'read'), async (c) => {
    const { session_id } = c.req.valid('param');
    const { accountId, account } = await syncCheckout(ready(deps), session_id, (named) =>
      api.authorizeAccount(c, named),
    );
    await deps.credits.grantPending();
    deps.access.invalidate([{ kind: 'account', id: accountId }]);
    return c.json(
      { account, entitlements: entitlementsJson(await deps.access.entitlements(accountId)) },
      200,
    );
  });
}
