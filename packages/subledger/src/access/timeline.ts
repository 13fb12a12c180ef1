import type pg from 'pg';
import { type AccessChange, type Database, inTransaction } from '../store/index.ts';
import type { Place } from '../sync/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { listenForChanges } from './listener.ts';
import { type AccountFacts, readAccountFacts, type SubscriptionWrite, WRITE_KEY } from './mirror-reads.ts';
import { type Access, type AccessPolicy, type AccessState, accessOf } from './state.ts';
import { type LatestWrite, type RecordedAccess, type Transition, transitionOf } from './transitions.ts';

export type TimelineOptions = { database: Database; place: Place; policy: AccessPolicy; logger: Logger };

/** One entry of an account's timeline. */
export type TimelineEntry = Transition & { accountId: string };

const GATHER_MS = 25;
const CHUNK = 500;
const CLOCK_SWEEP_MS = 30_000;

/**
 * Records every change of an account's access state. It follows the mirror's change notices; a
 * scheduled sweep catches the changes only the clock makes (a trial or a grace running out), and a
 * catch-up at start and after a lost connection evaluates the accounts written meanwhile.
 */
export function createTimelineRecorder(options: TimelineOptions) {
  const pending = { accounts: new Set<string>(), customers: new Set<string>() };
  let gathering: NodeJS.Timeout | undefined;
  let sweeping: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  // One pass at a time in this process; other processes are kept out by the rows' locks.
  const serially = (work: () => Promise<void>) => {
    running = running
      .then(work)
      .catch((error) => options.logger.error({ err: error }, 'timeline: a pass failed'));
    return running;
  };
  const flush = () => {
    gathering = undefined;
    const asked = { accounts: [...pending.accounts], customers: [...pending.customers] };
    pending.accounts.clear();
    pending.customers.clear();
    return serially(async () => {
      const accountIds = new Set([...asked.accounts, ...(await accountsOf(options, asked.customers))]);
      await evaluateAccounts(options, [...accountIds]);
    });
  };
  const listener = listenForChanges({
    url: options.database.url,
    logger: options.logger,
    onChanges: (changes: AccessChange[]) => {
      for (const change of changes) {
        if (change.kind === 'customer') pending.customers.add(change.id);
        if (change.kind === 'account') pending.accounts.add(change.id);
      }
      if (!gathering && pending.accounts.size + pending.customers.size > 0)
        gathering = setTimeout(flush, GATHER_MS);
    },
    onListening: (listening) => {
      if (listening) void serially(() => catchUp(options));
    },
  });
  const sweep = () => {
    void serially(() => clockSweep(options)).then(() => {
      if (sweeping) sweeping = setTimeout(sweep, CLOCK_SWEEP_MS);
    });
  };
  return {
    async start(): Promise<void> {
      await listener.start();
      sweeping = setTimeout(sweep, CLOCK_SWEEP_MS);
    },
    async stop(): Promise<void> {
      clearTimeout(gathering);
      clearTimeout(sweeping);
      sweeping = undefined;
      await listener.stop();
      await running;
    },
    /** Evaluates accounts now (tests, and the sweeps); resolves when their transitions are recorded. */
    evaluate: (accountIds: readonly string[]) => serially(() => evaluateAccounts(options, accountIds)),
    sweep: () => serially(() => clockSweep(options)),
  };
}

async function accountsOf({ database, place }: TimelineOptions, customerIds: string[]): Promise<string[]> {
  if (customerIds.length === 0) return [];
  const { rows } = await database.pool.query<{ account_id: string }>(
    `select account_id from account_customers
     where customer_id = any($1::text[]) and stripe_account = $2 and livemode = $3`,
    [customerIds, place.stripeAccount, place.livemode],
  );
  return rows.map((row) => row.account_id);
}

/** Accounts whose recorded state has run out by the clock. */
async function clockSweep(options: TimelineOptions): Promise<void> {
  const { rows } = await options.database.pool.query<{ account_id: string }>(
    `select account_id from account_access
     where changes_at <= now() and stripe_account = $1 and livemode = $2 order by changes_at limit 5000`,
    [options.place.stripeAccount, options.place.livemode],
  );
  await evaluateAccounts(
    options,
    rows.map((row) => row.account_id),
  );
}

/**
 * The newest subscription write of each account `l` links (lateral, on `s`), chosen as `latestWrite`
 * chooses it (byte order settles a tie, as JavaScript compares strings), so the catch-up asks only for
 * accounts an evaluation would see differently.
 */
const LATEST_WRITE = `
  select ${WRITE_KEY} as key
  from subscriptions s
  where s.customer_id = l.customer_id and s.stripe_account = l.stripe_account and s.livemode = l.livemode
  order by s.synced_at desc, ${WRITE_KEY} collate "C" desc limit 1`;

/** Accounts whose newest subscription write is not the one last evaluated (notices were missed). */
async function catchUp(options: TimelineOptions): Promise<void> {
  // An account is asked once per catch-up, whatever happens to it meanwhile.
  const seen = new Set<string>();
  for (;;) {
    const { rows } = await options.database.pool.query<{ account_id: string }>(
      `select l.account_id from account_customers l
       cross join lateral (${LATEST_WRITE}) w
       left join account_access a on a.account_id = l.account_id and a.stripe_account = l.stripe_account
                                 and a.livemode = l.livemode
       where l.stripe_account = $1 and l.livemode = $2 and a.last_write is distinct from w.key
         and not l.account_id = any($3::text[])
       limit ${CHUNK}`,
      [options.place.stripeAccount, options.place.livemode, [...seen]],
    );
    if (rows.length === 0) return;
    for (const row of rows) seen.add(row.account_id);
    await evaluateAccounts(
      options,
      rows.map((row) => row.account_id),
    );
  }
}

async function evaluateAccounts(options: TimelineOptions, accountIds: readonly string[]): Promise<void> {
  const sorted = [...new Set(accountIds)].sort();
  for (let start = 0; start < sorted.length; start += CHUNK)
    await inTransaction(options.database.pool, (client) =>
      evaluateChunk(client, options, sorted.slice(start, start + CHUNK)),
    );
}

type RecordedRow = {
  account_id: string;
  state: AccessState;
  changes_at: Date | null;
  last_write: string | null;
};

const seconds = (date: Date) => date.getTime() / 1000;

/**
 * Locks the accounts' recorded rows (an account first seen is recorded as `none`), then reads the mirror
 * under the lock, so a pass that read older facts can never record after one that read newer ones.
 */
async function evaluateChunk(client: pg.PoolClient, options: TimelineOptions, accountIds: string[]) {
  const key = [accountIds, options.place.stripeAccount, options.place.livemode];
  await client.query(
    `insert into account_access (account_id, stripe_account, livemode, state, reason, evaluated_at)
     select id, $2, $3, 'none', 'no_subscription', to_timestamp(0) from unnest($1::text[]) as id
     on conflict do nothing`,
    key,
  );
  const recorded = await client.query<RecordedRow>(
    `select account_id, state, changes_at, last_write from account_access
     where account_id = any($1::text[]) and stripe_account = $2 and livemode = $3
     order by account_id for update`,
    key,
  );
  const facts = await readAccountFacts(client, accountIds, options.place);
  const now = Date.now() / 1000;
  const states: EvaluatedAccess[] = [];
  const transitions: (Transition & { accountId: string })[] = [];
  for (const row of recorded.rows) {
    const subscriptions = facts.get(row.account_id)?.subscriptions.map((entry) => entry.facts) ?? [];
    const access = accessOf(subscriptions, now, options.policy);
    const latest = latestWrite(facts.get(row.account_id));
    const transition = transitionOf(recordedAccess(row), access, latest, now);
    if (transition) transitions.push({ ...transition, accountId: row.account_id });
    states.push({
      accountId: row.account_id,
      ...access,
      lastWrite: latest?.key ?? null,
    });
  }
  await recordStates(client, options.place, states);
  if (transitions.length > 0) await insertTransitions(client, options.place, transitions);
}

/** An account's access as an evaluation found it, and the subscription write it saw last. */
export type EvaluatedAccess = Access & { accountId: string; lastWrite: string | null };

/**
 * Writes the accounts' evaluated states over their locked rows. Written as an upsert, each state finds
 * its row through the key: an update joined with the states is planned from the table's statistics, and
 * on those of a table that has since grown (a new install recording its first thousands of accounts) it
 * read every account of the place once per state written.
 */
export async function recordStates(client: pg.PoolClient, place: Place, states: EvaluatedAccess[]) {
  await client.query(
    `insert into account_access
       (account_id, stripe_account, livemode, state, reason, subscription_id, changes_at, last_write, evaluated_at)
     select n.account_id, $2, $3, n.state, n.reason, n.subscription_id, to_timestamp(n.changes_at), n.last_write,
       now()
     from unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[])
       as n(account_id, state, reason, subscription_id, changes_at, last_write)
     on conflict (account_id, stripe_account, livemode) do update set state = excluded.state,
       reason = excluded.reason, subscription_id = excluded.subscription_id, changes_at = excluded.changes_at,
       last_write = excluded.last_write, evaluated_at = excluded.evaluated_at`,
    [
      states.map((state) => state.accountId),
      place.stripeAccount,
      place.livemode,
      states.map((state) => state.state),
      states.map((state) => state.reason),
      states.map((state) => state.subscriptionId),
      states.map((state) => state.endsAt),
      states.map((state) => state.lastWrite),
    ],
  );
}

const recordedAccess = (row: RecordedRow): RecordedAccess => ({
  state: row.state,
  changesAt: row.changes_at ? seconds(row.changes_at) : null,
  lastWrite: row.last_write,
});

/** The account's newest subscription write, read with its facts in one statement (one snapshot). */
function latestWrite(facts: AccountFacts | undefined): LatestWrite | null {
  const newer = (write: SubscriptionWrite, than: SubscriptionWrite) =>
    write.syncedAt > than.syncedAt || (write.syncedAt === than.syncedAt && write.key > than.key);
  let latest: SubscriptionWrite | null = null;
  for (const { write } of facts?.subscriptions ?? [])
    if (write && (!latest || newer(write, latest))) latest = write;
  return (
    latest && { key: latest.key, eventId: latest.eventId, source: latest.source, version: latest.version }
  );
}

async function insertTransitions(client: pg.PoolClient, place: Place, transitions: TimelineEntry[]) {
  const column = <K extends keyof TimelineEntry>(name: K) =>
    transitions.map((transition) => transition[name]);
  await client.query(
    `insert into access_transitions (account_id, stripe_account, livemode, from_state, to_state, reason,
       subscription_id, cause, cause_event_id, at)
     select n.account_id, $2, $3, n.from_state, n.to_state, n.reason, n.subscription_id, n.cause,
       n.cause_event_id, to_timestamp(n.at)
     from unnest($1::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[])
       as n(account_id, from_state, to_state, reason, subscription_id, cause, cause_event_id, at)`,
    [
      column('accountId'),
      place.stripeAccount,
      place.livemode,
      column('from'),
      column('to'),
      column('reason'),
      column('subscriptionId'),
      column('cause'),
      column('causeEventId'),
      column('at'),
    ],
  );
}

/** An account's timeline, newest first. */
export async function readTimeline(
  database: Database,
  place: Place,
  accountId: string,
  limit = 100,
): Promise<TimelineEntry[]> {
  const { rows } = await database.pool.query<{
    from_state: AccessState;
    to_state: AccessState;
    reason: string;
    subscription_id: string | null;
    cause: Transition['cause'];
    cause_event_id: string | null;
    at: Date;
  }>(
    `select from_state, to_state, reason, subscription_id, cause, cause_event_id, at from access_transitions
     where account_id = $1 and stripe_account = $2 and livemode = $3 order by id desc limit $4`,
    [accountId, place.stripeAccount, place.livemode, limit],
  );
  return rows.map((row) => ({
    accountId,
    from: row.from_state,
    to: row.to_state,
    reason: row.reason,
    subscriptionId: row.subscription_id,
    cause: row.cause,
    causeEventId: row.cause_event_id,
    at: seconds(row.at),
  }));
}
