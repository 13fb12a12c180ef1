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
 * Requests handled per transaction. A paid invoice arrives with nearly every renewal: one transaction
 * each was the busiest thing on the database after the webhooks themselves.
 */
const BATCH = 50;

type DueRequest = GrantRequest & { attempts: number };

/**
 * The requests due, oldest first. The background loop skips requests another transaction holds; a drain
 * waits for them, so that what it returns after includes their grants (the success page shows them).
 */
const claimDue = (wait: boolean) => `
  select source_kind as "sourceKind", source_id as "sourceId", stripe_account as "stripeAccount", livemode,
         attempts
  from credit_grant_requests
  where handled_at is null and next_attempt_at <= now()
  order by next_attempt_at limit ${BATCH}
  for update${wait ? '' : ' skip locked'}`;

/**
 * Grants the credits of paid invoices and top-ups the sync asked for, a batch of requests per
 * transaction: each grant and its request's end commit together, and a grant is once per source whatever
 * happens around it.
 */
export function createGranter(options: GranterOptions) {
  const loop = new WakeLoop({
    connectionString: connectionStringOf(options.pool),
    channel: CREDIT_GRANTS_CHANNEL,
    step: async () => {
      const found = await handleDue(options, false);
      return { found, behind: found >= BATCH };
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
      for (let found = await handleDue(options, true); found > 0; found = await handleDue(options, true))
        handled += found;
      return handled;
    },
  };
}

export type Granter = ReturnType<typeof createGranter>;

/**
 * Handles a batch of due requests in one transaction; returns how many it took. Should the batch fail (a
 * deadlock with another granter over the same pools, a request that cannot be planned), each request is
 * handled again in a transaction of its own, and one that fails alone is put off with its error: it
 * cannot hold the others up.
 */
async function handleDue(options: GranterOptions, wait: boolean): Promise<number> {
  let claimed: DueRequest[] = [];
  try {
    const outcomes = await inTransaction(options.pool, async (client) => {
      claimed = (await client.query<DueRequest>(claimDue(wait))).rows;
      return handleAll(client, options, claimed);
    });
    claimed.forEach((request, index) => {
      const outcome = outcomes[index];
      if (outcome) options.onHandled?.(request, outcome);
    });
  } catch (error) {
    if (claimed.length === 0) throw error;
    for (const request of claimed) await handleAlone(options, request);
  }
  return claimed.length;
}

async function handleAlone(options: GranterOptions, request: DueRequest): Promise<void> {
  try {
    const outcome = await inTransaction(options.pool, async (client) => {
      const { rows } = await client.query<DueRequest>(
        `select attempts from credit_grant_requests where ${REQUEST} and handled_at is null for update`,
        requestKey(request),
      );
      const current = rows[0];
      if (!current) return null;
      const [outcome] = await handleAll(client, options, [{ ...request, attempts: current.attempts }]);
      return outcome ?? null;
    });
    if (outcome) options.onHandled?.(request, outcome);
  } catch (error) {
    await putOff(options, request, error);
  }
}

async function putOff(options: GranterOptions, request: DueRequest, error: unknown): Promise<void> {
  options.onError?.(error);
  const reason = `failed: ${error instanceof Error ? error.message : String(error)}`;
  await inTransaction(options.pool, (client) => retryLater(client, request, reason));
}

/**
 * Grants what each request's source is due and returns the outcomes, in order; a request whose source
 * cannot be known yet is put off, and its outcome is null. The sources are read together, and the
 * handled requests are closed with one statement.
 */
async function handleAll(
  client: pg.PoolClient,
  options: GranterOptions,
  requests: DueRequest[],
): Promise<(string | null)[]> {
  const plans = await plansOf(client, options.catalog, requests);
  const outcomes: (string | null)[] = [];
  for (const [index, request] of requests.entries())
    outcomes.push(await carryOut(client, options, request, plans[index] as GrantPlan));
  const handled = requests.flatMap((request, index) => {
    const outcome = outcomes[index];
    return outcome ? [{ request, outcome }] : [];
  });
  await closeRequests(client, handled);
  return outcomes;
}

/** Grants what the plan says, or puts the request off when its source cannot be known yet (null). */
async function carryOut(
  client: pg.PoolClient,
  options: GranterOptions,
  request: DueRequest,
  plan: GrantPlan,
): Promise<string | null> {
  if (plan.kind === 'wait') {
    await retryLater(client, request, plan.reason);
    return null;
  }
  if (plan.kind === 'nothing') return `nothing: ${plan.reason}`;
  const granted: string[] = [];
  for (const grant of plan.grants) {
    const pool = { accountId: grant.accountId, creditType: grant.creditType, ...placeOf(request) };
    const result = await grantCredits(client, pool, grant, options.now());
    granted.push(`${grant.creditType} ${result.granted ? grant.amount : 0}+${result.carried}`);
  }
  return `granted ${granted.join(', ')}`;
}

/** Paid invoices are planned with one read for all of them; top-ups one by one (they are rare). */
async function plansOf(
  client: pg.PoolClient,
  catalog: Catalog,
  requests: GrantRequest[],
): Promise<GrantPlan[]> {
  const invoices = requests.filter((request) => request.sourceKind === 'invoice');
  const invoicePlans = await planInvoiceGrants(client, catalog, invoices);
  const plans: GrantPlan[] = [];
  for (const request of requests)
    plans.push(
      request.sourceKind === 'invoice'
        ? (invoicePlans[invoices.indexOf(request)] as GrantPlan)
        : await planTopUpGrant(client, catalog, request),
    );
  return plans;
}

/** Ends the handled requests with their outcomes, in one statement. */
async function closeRequests(client: pg.PoolClient, handled: { request: GrantRequest; outcome: string }[]) {
  if (handled.length === 0) return;
  const column = <T>(read: (request: GrantRequest) => T) => handled.map(({ request }) => read(request));
  await client.query(
    `update credit_grant_requests r set handled_at = now(), outcome = h.outcome, attempts = r.attempts + 1
     from unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::text[])
       as h(stripe_account, livemode, source_kind, source_id, outcome)
     where r.stripe_account = h.stripe_account and r.livemode = h.livemode
       and r.source_kind = h.source_kind and r.source_id = h.source_id`,
    [
      column((request) => request.stripeAccount),
      column((request) => request.livemode),
      column((request) => request.sourceKind),
      column((request) => request.sourceId),
      handled.map(({ outcome }) => outcome),
    ],
  );
}

async function retryLater(client: pg.PoolClient, request: DueRequest, reason: string) {
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
