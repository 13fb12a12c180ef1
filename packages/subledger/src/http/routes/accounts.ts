import { createRoute } from '@hono/zod-openapi';
import type { TimelineEntry } from '../../access/index.ts';
import { fromStripe } from '../../billing/errors.ts';
import type { EntryView } from '../../credits/index.ts';
import type { AccountSyncResult } from '../../sync/account-sync.ts';
import type { AccountView } from '../../sync/account-view.ts';
import type { Api } from '../api.ts';
import { errorSchema, problem } from '../problems.ts';
import { accountIdParams, accountSchema, timelineSchema } from '../schemas.ts';
import { COMMON_PROBLEMS, json, KEYS_ONLY, SECURED } from './common.ts';
import { creditEntryJson } from './credit-answers.ts';

/** What the account routes need: the mirror's view of an account, and an eager sync of it. */
export type AccountService = {
  view: (accountId: string) => Promise<AccountView | null>;
  sync: (accountId: string) => Promise<AccountSyncResult>;
  timeline: (accountId: string) => Promise<TimelineEntry[]>;
  /** The account's credit ledger entries, newest first. */
  creditEntries: (accountId: string) => Promise<EntryView[]>;
};

const notFound = json(errorSchema, '`account_not_found`: no Stripe customer is linked to the account');

export const accountRoute = createRoute({
  method: 'get',
  path: '/v1/accounts/{account_id}',
  tags: ['Accounts'],
  summary: "The mirror's view of an account: customer, subscriptions, recent invoices",
  security: SECURED,
  request: { params: accountIdParams },
  responses: { 200: json(accountSchema, 'the account'), 404: notFound, ...COMMON_PROBLEMS },
});

export const timelineRoute = createRoute({
  method: 'get',
  path: '/v1/accounts/{account_id}/timeline',
  tags: ['Accounts'],
  summary: "The account's access transitions, newest first, each with its cause",
  security: SECURED,
  request: { params: accountIdParams },
  responses: { 200: json(timelineSchema, 'the transitions'), ...COMMON_PROBLEMS },
});

export const syncRoute = createRoute({
  method: 'post',
  path: '/v1/accounts/{account_id}/sync',
  tags: ['Accounts'],
  summary: 'Read the account from Stripe now, then answer its view',
  description: 'For a success page or a manual refresh: the mirror does not wait for the webhooks.',
  security: KEYS_ONLY,
  request: { params: accountIdParams },
  responses: {
    200: json(accountSchema, 'the account, as Stripe has it now'),
    404: notFound,
    ...COMMON_PROBLEMS,
    502: json(errorSchema, '`stripe_refused`: Stripe refused a read (4xx)'),
    503: json(errorSchema, '`stripe_unavailable` or `stripe_not_configured`'),
  },
});

export const ACCOUNT_ROUTES = [accountRoute, timelineRoute, syncRoute];

export function mountAccountRoutes(api: Api, accounts: AccountService): void {
  api.openapi(api.guarded(accountRoute, 'read'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const view = await accounts.view(account_id);
    if (!view) return notLinked(c, account_id);
    return c.json(view, 200);
  });
  api.openapi(api.guarded(timelineRoute, 'read'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const [transitions, credits] = await Promise.all([
      accounts.timeline(account_id),
      accounts.creditEntries(account_id),
    ]);
    return c.json(
      { account_id, credits: credits.map(creditEntryJson), transitions: transitions.map(transitionJson) },
      200,
    );
  });
  api.openapi(api.guarded(syncRoute, 'write'), async (c) => {
    const { account_id } = c.req.valid('param');
    api.authorizeAccount(c, account_id);
    const result = await syncOrRefused(accounts, account_id);
    if (result.ok) return c.json(result.account, 200);
    return problem(c, result.code === 'account_not_found' ? 404 : 503, result.code, result.message);
  });
}

const notLinked = (c: Parameters<typeof problem>[0], accountId: string) =>
  problem(c, 404, 'account_not_found', `no Stripe customer is linked to account ${accountId}`);

const transitionJson = (entry: TimelineEntry) => ({
  from: entry.from,
  to: entry.to,
  reason: entry.reason,
  subscription_id: entry.subscriptionId,
  cause: entry.cause,
  cause_event_id: entry.causeEventId,
  at: entry.at,
});

/**
 * Stripe failing is answered with a code, not an internal error, told apart as billing's actions tell
 * them (`fromStripe`): Stripe down is 503 `stripe_unavailable`; a read Stripe refuses (a 4xx, which no
 * wait mends) is 502 `stripe_refused`. Stripe's own message is not passed on: it may quote part of the key.
 */
async function syncOrRefused(accounts: AccountService, accountId: string): Promise<AccountSyncResult> {
  try {
    return await accounts.sync(accountId);
  } catch (error) {
    throw fromStripe(error);
  }
}
