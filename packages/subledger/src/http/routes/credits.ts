import { createRoute, z } from '@hono/zod-openapi';
import type { Catalog } from '../../catalog/index.ts';
import type { CreditsService } from '../../credits/index.ts';
import { accountIdSchema } from '../../sync/index.ts';
import type { Api } from '../api.ts';
import { errorSchema } from '../problems.ts';
import { accountIdParams, creditEntrySchema } from '../schemas.ts';
import { COMMON_PROBLEMS, json, KEYS_ONLY, SECURED } from './common.ts';
import { creditEntryJson, featureOf, keyOf, settled } from './credit-answers.ts';

const amount = z.number().int('must be an integer').min(1, 'must be at least 1').max(1_000_000_000_000);
const shared = {
  account_id: accountIdSchema.meta({
    example: 'acct_42',
    description: 'whose pool pays (the team, the building…)',
  }),
  feature: z.string().min(1).max(64).optional().openapi({
    example: 'ai_credits',
    description: "a credits feature of the catalog; default: the catalog's only one",
  }),
  amount,
  idempotency_key: z.string().min(1).max(255).optional().openapi({
    description:
      'required here or as the `Idempotency-Key` header: a retry with it answers the same and spends once',
  }),
};
/** The key of a spend or grant, when the body does not carry `idempotency_key`. */
const keyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(255).optional() });

const spender = {
  member_id: accountIdSchema.optional().meta({
    description: "who spent, when it is not the account itself (a team member spending the team's pool)",
  }),
};

const balanceSchema = z.object({
  feature: z.string(),
  balance: z.number().int().openapi({ description: 'credits the pool may spend now' }),
});
const insufficientSchema = errorSchema
  .extend({ balance: z.number().int().openapi({ description: 'credits the pool may spend now' }) })
  .openapi('InsufficientCredits');

const PROBLEMS = {
  ...COMMON_PROBLEMS,
  402: json(insufficientSchema, '`insufficient_credits`, with the balance'),
  404: json(errorSchema, '`hold_not_found`: no open hold has that id (committed, released or expired)'),
  409: json(errorSchema, '`commit_exceeds_hold`'),
};

const post = <B extends z.ZodType, R extends z.ZodType>(path: string, summary: string, body: B, answer: R) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Credits'],
    summary,
    security: KEYS_ONLY,
    request: {
      headers: keyHeaders,
      body: { ...json(body, 'the request'), required: true },
    },
    responses: { 200: json(answer, 'done'), ...PROBLEMS },
  });

export const consumeRoute = post(
  '/v1/credits/consume',
  'Spend credits now',
  z.strictObject({ ...shared, ...spender }),
  balanceSchema.openapi('CreditBalance'),
);

export const reserveRoute = post(
  '/v1/credits/reserve',
  'Set credits aside until committed, released or expired',
  z.strictObject({
    ...shared,
    ...spender,
    ttl_seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional()
      .openapi({
        description: 'the hold returns its credits by itself after this long; default 300',
      }),
  }),
  balanceSchema.extend({ hold_id: z.string(), expires_at: z.number().int() }).openapi('CreditHold'),
);

const holdParams = z.object({
  hold_id: z
    .string()
    .regex(/^hold_[A-Za-z0-9_-]{1,64}$/, 'must be a hold id (hold_…)')
    .meta({ param: { name: 'hold_id', in: 'path' }, example: 'hold_9yX2' }),
});
const holdAnswer = balanceSchema.extend({ hold_id: z.string() }).openapi('CreditHoldClosed');

export const commitRoute = createRoute({
  method: 'post',
  path: '/v1/credits/holds/{hold_id}/commit',
  tags: ['Credits'],
  summary: "Spend a hold's credits (all, or `amount` of them and return the rest)",
  security: KEYS_ONLY,
  request: {
    params: holdParams,
    body: {
      ...json(
        z.strictObject({ amount: z.number().int().min(0).max(1_000_000_000_000).optional() }),
        'how much',
      ),
      required: false,
    },
  },
  responses: { 200: json(holdAnswer, 'committed'), ...PROBLEMS },
});

export const releaseRoute = createRoute({
  method: 'post',
  path: '/v1/credits/holds/{hold_id}/release',
  tags: ['Credits'],
  summary: "Give a hold's credits back (a failed call)",
  security: KEYS_ONLY,
  request: { params: holdParams },
  responses: { 200: json(holdAnswer, 'released'), ...PROBLEMS },
});

export const grantRoute = createRoute({
  method: 'post',
  path: '/v1/credits/grant',
  tags: ['Credits'],
  summary: 'Grant credits by hand, with a reason (admin)',
  security: KEYS_ONLY,
  request: {
    headers: keyHeaders,
    body: {
      ...json(
        z.strictObject({
          ...shared,
          reason: z.string().trim().min(1).max(500),
          expires_at: z
            .number()
            .int()
            .positive()
            .optional()
            .openapi({ description: 'Unix seconds; none: never' }),
        }),
        'the grant',
      ),
      required: true,
    },
  },
  responses: {
    200: json(
      balanceSchema.extend({ lot_id: z.string(), granted: z.boolean() }).openapi('CreditGrant'),
      'granted',
    ),
    ...COMMON_PROBLEMS,
  },
});

const lotSchema = z.object({
  id: z.string(),
  amount: z.number().int(),
  remaining: z.number().int(),
  expires_at: z.number().int().nullable(),
  source: z.object({ kind: z.string(), id: z.string() }),
  reason: z.string().nullable(),
});
export const accountCreditsRoute = createRoute({
  method: 'get',
  path: '/v1/accounts/{account_id}/credits',
  tags: ['Credits'],
  summary: "The account's credits: each pool's balance and lots, and its latest ledger entries",
  security: SECURED,
  request: { params: accountIdParams },
  responses: {
    200: json(
      z
        .object({
          account_id: z.string(),
          pools: z.array(
            z.object({
              feature: z.string(),
              balance: z.number().int(),
              held: z.number().int(),
              lots: z.array(lotSchema),
            }),
          ),
          entries: z.array(creditEntrySchema).openapi({ description: 'the latest 50, newest first' }),
        })
        .openapi('AccountCredits'),
      "the account's credits",
    ),
    ...COMMON_PROBLEMS,
  },
});

export const CREDIT_ROUTES = [
  consumeRoute,
  reserveRoute,
  commitRoute,
  releaseRoute,
  grantRoute,
  accountCreditsRoute,
];

type Deps = { credits: CreditsService; catalog: Catalog };

const DEFAULT_TTL_SECONDS = 300;

export function mountCreditRoutes(api: Api, deps: Deps): void {
  api.openapi(api.guarded(consumeRoute, 'write'), async (c) => {
    const body = c.req.valid('json');
    const feature = featureOf(deps.catalog, body.feature);
    const outcome = await deps.credits.consume({
      accountId: body.account_id,
      creditType: feature,
      amount: body.amount,
      key: keyOf(c, body.idempotency_key),
      ...(body.member_id ? { spender: body.member_id } : {}),
    });
    return c.json({ feature, balance: settled(outcome) }, 200);
  });
  api.openapi(api.guarded(reserveRoute, 'write'), async (c) => {
    const body = c.req.valid('json');
    const feature = featureOf(deps.catalog, body.feature);
    const ttlSeconds = body.ttl_seconds ?? DEFAULT_TTL_SECONDS;
    const hold = await deps.credits.reserve({
      accountId: body.account_id,
      creditType: feature,
      amount: body.amount,
      key: keyOf(c, body.idempotency_key),
      ttlSeconds,
      ...(body.member_id ? { spender: body.member_id } : {}),
    });
    const balance = settled(hold);
    return c.json({ feature, balance, hold_id: hold.holdId, expires_at: hold.expiresAt }, 200);
  });
  api.openapi(api.guarded(commitRoute, 'write'), async (c) => {
    const { hold_id } = c.req.valid('param');
    const body = c.req.valid('json') ?? {};
    const closed = await deps.credits.commit(hold_id, body.amount);
    return c.json({ feature: closed.creditType, balance: settled(closed), hold_id }, 200);
  });
  api.openapi(api.guarded(releaseRoute, 'write'), async (c) => {
    const { hold_id } = c.req.valid('param');
    const closed = await deps.credits.release(hold_id);
    return c.json({ feature: closed.creditType, balance: settled(closed), hold_id }, 200);
  });
  api.openapi(api.guarded(grantRoute, 'admin'), async (c) => {
    const body = c.req.valid('json');
    const feature = featureOf(deps.catalog, body.feature);
    const result = await deps.credits.grant({
      accountId: body.account_id,
      creditType: feature,
      amount: body.amount,
      expiresAt: body.expires_at ?? null,
      source: { kind: 'manual', id: keyOf(c, body.idempotency_key) },
      reason: body.reason,
    });
    return c.json({ feature, balance: result.balance, lot_id: result.lotId, granted: result.granted }, 200);
  });
  api.openapi(api.guarded(accountCreditsRoute, 'read'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const [pools, entries] = await Promise.all([
      deps.credits.pools(account_id),
      deps.credits.entries(account_id, { limit: 50 }),
    ]);
    return c.json(
      {
        account_id,
        pools: pools.map((pool) => ({
          feature: pool.creditType,
          balance: pool.available,
          held: pool.held,
          lots: pool.lots.map((lot) => ({
            id: lot.id,
            amount: lot.amount,
            remaining: lot.remaining,
            expires_at: lot.expiresAt,
            source: lot.source,
            reason: lot.reason,
          })),
        })),
        entries: entries.map(creditEntryJson),
      },
      200,
    );
  });
}
