import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import Stripe from 'stripe';
import { z } from 'zod';
import type { TimelineEntry } from '../access/index.ts';
import type { AccountSyncResult } from '../sync/account-sync.ts';
import { type AccountView, accountIdSchema } from '../sync/account-view.ts';

/** What the account routes need: the mirror's view of an account, and an eager sync of it. */
export type AccountService = {
  view: (accountId: string) => Promise<AccountView | null>;
  sync: (accountId: string) => Promise<AccountSyncResult>;
  timeline: (accountId: string) => Promise<TimelineEntry[]>;
};

const paramsSchema = z.object({ account_id: accountIdSchema });

type Failure = Exclude<SyncOutcome, { ok: true }>;

const STATUS: Record<Failure['code'], ContentfulStatusCode> = {
  account_not_found: 404,
  stripe_not_configured: 503,
  stripe_unavailable: 502,
};

export const failure = (c: Context, status: ContentfulStatusCode, code: string, message: string) =>
  c.json({ error: { code, message } }, status);

/**
 * `GET /v1/accounts/:account_id` (the mirror's view), `GET /v1/accounts/:account_id/timeline` (its
 * access transitions, newest first) and `POST /v1/accounts/:account_id/sync` (read the
 * account from Stripe now, then the view). Mounted under `/v1/accounts`.
 */
export function accountRoutes(accounts: AccountService): Hono {
  const routes = new Hono();
  routes.get(
    '/:account_id',
    withAccountId(async (c, accountId) => {
      const view = await accounts.view(accountId);
      if (!view)
        return failure(c, 404, 'account_not_found', `no Stripe customer is linked to account ${accountId}`);
      return c.json(view);
    }),
  );
  routes.get(
    '/:account_id/timeline',
    withAccountId(async (c, accountId) => {
      const transitions = await accounts.timeline(accountId);
      return c.json({ account_id: accountId, transitions: transitions.map(transitionJson) });
    }),
  );
  routes.post(
    '/:account_id/sync',
    withAccountId(async (c, accountId) => {
      const result = await syncOrUnavailable(accounts, accountId);
      if (!result.ok) return failure(c, STATUS[result.code], result.code, result.message);
      return c.json(result.account);
    }),
  );
  return routes;
}

const transitionJson = (entry: TimelineEntry) => ({
  from: entry.from,
  to: entry.to,
  reason: entry.reason,
  subscription_id: entry.subscriptionId,
  cause: entry.cause,
  cause_event_id: entry.causeEventId,
  at: entry.at,
});

/** Validates the `account_id` path parameter before the handler sees it: a bad one is a coded 400. */
export function withAccountId(handler: (c: Context, accountId: string) => Promise<Response>) {
  return function validAccountId(c: Context): Promise<Response> | Response {
    const parsed = paramsSchema.safeParse(c.req.param());
    if (parsed.success) return handler(c, parsed.data.account_id);
    const issue = parsed.error.issues[0];
    return failure(c, 400, 'invalid_account_id', `account_id ${issue?.message ?? 'is invalid'}`);
  };
}

type SyncOutcome = AccountSyncResult | { ok: false; code: 'stripe_unavailable'; message: string };

/**
 * Stripe being down or refusing is a 502 with a code, not an internal error. Stripe's own message is
 * not passed on: it may quote part of the key.
 */
async function syncOrUnavailable(accounts: AccountService, accountId: string): Promise<SyncOutcome> {
  try {
    return await accounts.sync(accountId);
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeError)) throw error;
    return { ok: false, code: 'stripe_unavailable', message: `Stripe could not be read (${error.type})` };
  }
}
