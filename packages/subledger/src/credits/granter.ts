import type pg from 'pg';
import type { Catalog } from '../catalog/index.ts';
import { inTransaction } from '../store/index.ts';
import { CREDIT_GRANTS_CHANNEL, connectionStringOf, WakeLoop } from '../sync/index.ts';
import { type GrantPlan, type GrantRequest, planInvoiceGrants, planTopUpGrant } from './grant-sources.ts';
import { grantCredits } from './grants.ts';

export type GranterOptions = {
  pool: pg.Pool;
  catalog: Catalog;
  now: () => number;
  onError?: (error: unknown) => void;
  /** Called after each request is handled, with what it granted. */
  onHandled?: (request: GrantRequest, outcome: string) => void;
};

/** Waits between tries of a request that cannot be granted yet: doubling, at most an hour. */
const MAX_RETRY_SECONDS = 3600;
/** A source still unknowable after this many tries (about a day) is set aside with its reason. */
const MAX_ATTEMPTS = 36;

/**
 * The next request due. The background loop skips requests another transaction holds; a drain waits for
 * them, so that what it returns after includes their grants (the success page shows them).
 */
const claim = (wait: boolean) => `
  select source_kind as "sourceKind", source_id as "sourceId", stripe_account as "stripeAccount", livemode,
         attempts
  from credit_grant_requests
  where handled_at is null and next_attempt_at <= now()
  order by next_attempt_at limit 1
  for update${wait ? '' : ' skip locked'}`;

/**
 * Grants the credits of paid invoices and top-ups the sync asked for, one request per transaction: the
 * grant and the request's end commit together, and a grant is once per source whatever happens around it.
 */
export function createGranter(options: GranterOptions) {
  const loop = new WakeLoop({
    connectionString: connectionStringOf(options.pool),
    channel: CREDIT_GRANTS_CHANNEL,
    step: async () => {
      const found = (await handleNext(options, false)) ? 1 : 0;
      return { found, behind: found > 0 };
    },
    loops: 1,
    idleMs: 5_000,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    /** Handles every request due now (the success page's sync does, so credits show at once). */
    async drain(): Promise<number> {
      let handled = 0;
      while (await handleNext(options, true)) handled++;
      return handled;
    },
  };
}

export type Granter = ReturnType<typeof createGranter>;

async function handleNext(options: GranterOptions, wait: boolean): Promise<boolean> {
  return inTransaction(options.pool, async (client) => {
    const { rows } = await client.query<GrantRequest & { attempts: number }>(claim(wait));
    const request = rows[0];
    if (!request) return false;
    const plan = await planOf(client, options.catalog, request);
    if (plan.kind === 'wait') {
      await retryLater(client, request, plan.reason);
      return true;
    }
    let outcome = plan.kind === 'nothing' ? `nothing: ${plan.reason}` : 'granted';
    if (plan.kind === 'grants') {
      const granted: string[] = [];
      for (const grant of plan.grants) {
        const pool = { accountId: grant.accountId, creditType: grant.creditType, ...placeOf(request) };
        const result = await grantCredits(client, pool, grant, options.now());
        granted.push(`${grant.creditType} ${result.granted ? grant.amount : 0}+${result.carried}`);
      }
      outcome = `granted ${granted.join(', ')}`;
    }
    await client.query(
      `update credit_grant_requests set handled_at = now(), outcome = $5, attempts = attempts + 1
       where ${REQUEST}`,
      [...requestKey(request), outcome],
    );
    options.onHandled?.(request, outcome);
    return true;
  });
}

const planOf = (client: pg.PoolClient, catalog: Catalog, request: GrantRequest): Promise<GrantPlan> =>
  request.sourceKind === 'invoice'
    ? planInvoiceGrants(client, catalog, request)
    : planTopUpGrant(client, catalog, request);

async function retryLater(
  client: pg.PoolClient,
  request: GrantRequest & { attempts: number },
  reason: string,
) {
  const attempts = request.attempts + 1;
  const gaveUp = attempts >= MAX_ATTEMPTS;
  await client.query(
    `update credit_grant_requests
     set attempts = $5, last_error = $6, next_attempt_at = now() + make_interval(secs => $7),
         handled_at = case when $8 then now() end, outcome = case when $8 then 'gave up: ' || $6 end
     where ${REQUEST}`,
    [...requestKey(request), attempts, reason, Math.min(MAX_RETRY_SECONDS, 2 ** attempts), gaveUp],
  );
}

const REQUEST = 'stripe_account = $1 and livemode = $2 and source_kind = $3 and source_id = $4';
const requestKey = (request: GrantRequest) => [
  request.stripeAccount,
  request.livemode,
  request.sourceKind,
  request.sourceId,
];
const placeOf = (request: GrantRequest) => ({
  stripeAccount: request.stripeAccount,
  livemode: request.livemode,
});
