import { createRoute, z } from '@hono/zod-openapi';
import type { AccessChecker, CheckResult, Entitlements, FeatureAccess } from '../../access/index.ts';
import { accountIdSchema } from '../../sync/index.ts';
import type { Api } from '../api.ts';
import { accountIdParams, checkResultSchema, entitlementsSchema } from '../schemas.ts';
import { COMMON_PROBLEMS, json, SECURED } from './common.ts';

const checkBodySchema = z
  .strictObject({
    account_id: accountIdSchema.meta({ example: 'acct_42' }),
    feature: z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .openapi({ example: 'sso', description: 'a catalog feature id or a Stripe feature lookup_key' }),
    quantity: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .openapi({ description: 'uses this request would add (metered features); default 1' }),
  })
  .openapi('CheckRequest');

export const checkRoute = createRoute({
  method: 'post',
  path: '/v1/check',
  tags: ['Access'],
  summary: 'May this account use this feature now, and how much is left',
  description: 'Answered from the mirror, never from Stripe. A refusal is an answer (`allowed: false`).',
  security: SECURED,
  request: { body: { ...json(checkBodySchema, 'the check'), required: true } },
  responses: { 200: json(checkResultSchema, 'the answer'), ...COMMON_PROBLEMS },
});

export const entitlementsRoute = createRoute({
  method: 'get',
  path: '/v1/accounts/{account_id}/entitlements',
  tags: ['Access'],
  summary: 'Everything the account may use now',
  security: SECURED,
  request: { params: accountIdParams },
  responses: { 200: json(entitlementsSchema, "the account's state and features"), ...COMMON_PROBLEMS },
});

export const ACCESS_ROUTES = [checkRoute, entitlementsRoute];

export function mountAccessRoutes(api: Api, access: AccessChecker): void {
  api.openapi(api.guarded(checkRoute, 'read'), async (c) => {
    const { account_id, feature, quantity } = c.req.valid('json');
    api.authorizeAccount(c, account_id);
    return c.json(checkJson(await access.check(account_id, feature, { quantity })), 200);
  });
  api.openapi(api.guarded(entitlementsRoute, 'read'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    return c.json(entitlementsJson(await access.entitlements(account_id)), 200);
  });
}

const countsJson = (result: Omit<CheckResult, 'state' | 'plan'>) => ({
  limit: result.limit,
  used: result.used,
  remaining: result.remaining,
  resets_at: result.resetsAt,
});

const checkJson = (result: CheckResult) => ({
  allowed: result.allowed,
  code: result.code,
  state: result.state,
  plan: result.plan,
  ...countsJson(result),
});

const featureJson = (feature: FeatureAccess) => ({
  allowed: feature.allowed,
  code: feature.code,
  ...countsJson(feature),
});

export function entitlementsJson(entitlements: Entitlements) {
  return {
    account_id: entitlements.accountId,
    state: entitlements.state,
    reason: entitlements.reason,
    plan: entitlements.plan,
    subscription_id: entitlements.subscriptionId,
    ends_at: entitlements.endsAt,
    can_purchase: entitlements.canPurchase,
    can_use_credits: entitlements.canUseCredits,
    features: Object.fromEntries(
      Object.entries(entitlements.features).map(([id, feature]) => [id, featureJson(feature)]),
    ),
  };
}
