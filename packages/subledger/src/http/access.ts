import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AccessChecker, CheckResult, Entitlements, FeatureAccess } from '../access/index.ts';
import { accountIdSchema } from '../sync/index.ts';
import { failure, withAccountId } from './accounts.ts';

const checkBodySchema = z.strictObject({
  account_id: accountIdSchema,
  feature: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  quantity: z
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(Number.MAX_SAFE_INTEGER)
    .optional(),
});

/**
 * `POST /v1/check` (may this account use this feature now, and how much is left) and
 * `GET /v1/accounts/:account_id/entitlements` (everything it may use). Both answer from the access
 * cache; a refusal is an answer (`allowed: false` and its code), not an HTTP error.
 */
export function accessRoutes(access: AccessChecker): Hono {
  const routes = new Hono();
  routes.post('/check', async (c) => {
    const body = await jsonBody(c);
    if (body === undefined) return failure(c, 400, 'invalid_json', 'the body must be a JSON object');
    const parsed = checkBodySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue?.path.join('.') || undefined;
      const message = param ? `${param} ${issue?.message}` : (issue?.message ?? 'the body is invalid');
      return c.json({ error: { code: 'invalid_request', message, ...(param ? { param } : {}) } }, 400);
    }
    const { account_id, feature, quantity } = parsed.data;
    return c.json(checkJson(await access.check(account_id, feature, { quantity })));
  });
  routes.get(
    '/accounts/:account_id/entitlements',
    withAccountId(async (c, accountId) => c.json(entitlementsJson(await access.entitlements(accountId)))),
  );
  return routes;
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

const checkJson = (result: CheckResult) => ({
  allowed: result.allowed,
  code: result.code,
  state: result.state,
  plan: result.plan,
  ...countsJson(result),
});

const countsJson = (result: Omit<CheckResult, 'state' | 'plan'>) => ({
  limit: result.limit,
  used: result.used,
  remaining: result.remaining,
  resets_at: result.resetsAt,
});

const featureJson = (feature: FeatureAccess) => ({
  allowed: feature.allowed,
  code: feature.code,
  ...countsJson(feature),
});

function entitlementsJson(entitlements: Entitlements) {
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
