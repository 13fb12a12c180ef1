import { createRoute, z } from '@hono/zod-openapi';
import type { AccessService } from '../../access/index.ts';
import { type Billing, changePlan, type PlanChangeRequest, previewPlanChange } from '../../billing/index.ts';
import type { Catalog } from '../../catalog/index.ts';
import type { Api } from '../api.ts';
import { errorSchema } from '../problems.ts';
import { accountIdParams } from '../schemas.ts';
import { COMMON_PROBLEMS, idempotencyHeaders, json, KEYS_ONLY, ready } from './common.ts';
import { subscriptionJson, subscriptionShape } from './subscriptions.ts';

const planChangeSchema = z
  .strictObject({
    plan: z.string().min(1).max(200).optional().openapi({ example: 'pro', description: 'a catalog plan id' }),
    price: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'a price id or lookup_key (instead of plan)' }),
    quantity: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(10_000)
      .optional()
      .openapi({ description: 'default: the current quantity' }),
  })
  .refine((body) => (body.plan === undefined) !== (body.price === undefined), {
    message: 'name exactly one of plan and price',
    path: ['plan'],
  })
  .openapi('PlanChangeRequest');

const timingShape = {
  timing: z
    .enum(['now', 'period_end'])
    .openapi({ description: 'an upgrade is now, a downgrade at period end' }),
  effective_at: z.number().int().openapi({ description: 'when the change takes effect (Unix seconds)' }),
};

const PROBLEMS = {
  ...COMMON_PROBLEMS,
  404: json(errorSchema, '`subscription_not_found`'),
  409: json(errorSchema, '`plan_unchanged`'),
  502: json(errorSchema, '`stripe_refused`'),
  503: json(errorSchema, '`stripe_unavailable` or `stripe_not_configured`'),
};

const body = { ...json(planChangeSchema, 'the plan or price to move to'), required: true };

export const planPreviewRoute = createRoute({
  method: 'post',
  path: '/v1/accounts/{account_id}/subscription/plan/preview',
  tags: ['Billing'],
  summary: 'What a plan change would cost and when it would take effect, changing nothing',
  security: KEYS_ONLY,
  request: { params: accountIdParams, body },
  responses: {
    200: json(
      z
        .object({
          ...timingShape,
          amount_due: z
            .number()
            .int()
            .openapi({ description: 'invoiced now (upgrade) or at period end (downgrade)' }),
          currency: z.string(),
        })
        .openapi('PlanChangePreview'),
      'the preview',
    ),
    ...PROBLEMS,
  },
});

export const planChangeRoute = createRoute({
  method: 'post',
  path: '/v1/accounts/{account_id}/subscription/plan',
  tags: ['Billing'],
  summary: 'Change the plan: an upgrade now with proration, a downgrade at the end of the period',
  security: KEYS_ONLY,
  request: { params: accountIdParams, headers: idempotencyHeaders, body },
  responses: {
    200: json(z.object({ ...subscriptionShape, ...timingShape }).openapi('PlanChange'), 'the change'),
    ...PROBLEMS,
  },
});

export const PLAN_ROUTES = [planPreviewRoute, planChangeRoute];

type Deps = { billing: Billing | null; catalog: Catalog; access: AccessService };

const requestOf = (accountId: string, body: z.infer<typeof planChangeSchema>): PlanChangeRequest => ({
  accountId,
  plan: body.plan,
  price: body.price,
  quantity: body.quantity,
});

export function mountPlanRoutes(api: Api, deps: Deps): void {
  api.openapi(api.guarded(planPreviewRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const preview = await previewPlanChange(
      ready(deps),
      deps.catalog,
      requestOf(account_id, c.req.valid('json')),
    );
    return c.json(
      {
        timing: preview.timing,
        effective_at: preview.effectiveAt,
        amount_due: preview.amountDue,
        currency: preview.currency,
      },
      200,
    );
  });
  api.openapi(api.guarded(planChangeRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const change = await changePlan(ready(deps), deps.catalog, requestOf(account_id, c.req.valid('json')), {
      idempotencyKey: c.req.valid('header')['idempotency-key'],
    });
    deps.access.invalidate([{ kind: 'account', id: account_id }]);
    return c.json(
      { ...subscriptionJson(change), timing: change.timing, effective_at: change.effectiveAt },
      200,
    );
  });
}
