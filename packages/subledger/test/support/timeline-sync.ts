import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { databaseNow } from '../../src/store/index.ts';
import { API_VERSION } from '../../src/stripe/index.ts';
import { writeFetched } from '../../src/sync/backfill.ts';
import { Inbox } from '../../src/sync/inbox.ts';
import { type RefetchDependencies, serveRefetches } from '../../src/sync/refetch.ts';
import { leaseRefetches } from '../../src/sync/refetch-queue.ts';
import { InboxWorker } from '../../src/sync/worker.ts';
import type { TestDatabase } from './database.ts';
import { refetchQueue, request } from './refetches.ts';
import { type Change, type HeldRow, NO_STATE, StripeTimeline, timelineStripe } from './stripe-timeline.ts';

/**
 * The sync engine against a Stripe timeline, one step at a time: changes in Stripe, deliveries of their
 * events to the inbox worker, and reads of the customers "now" written by the refetcher or by a
 * reconcile. A read takes its answer, then the steps given to it happen, then it is written: so a read
 * may be older than an event of its own second that is applied before the read is written.
 */

export const CUSTOMERS = ['cus_a', 'cus_b'] as const;

/** `tick`: seconds Stripe's clock moves on before the step. */
export type Step = { tick: number } & (
  | { do: 'change'; customer: number; deletes: boolean; oldApi: boolean }
  /** Events counted back from the newest sent (0 is the newest), stored in this order, then applied. */
  | { do: 'deliver'; picks: number[] }
  /** Asks for reads of `asks` (beside those events asked for), then serves every ready refetch. */
  | { do: 'refetch'; asks: number[]; whileReading: Step[] }
  /**
   * Reads one customer and writes it as a reconcile does; `racing` events are applied by a worker
   * whose batch runs while that write's transaction is open.
   */
  | { do: 'reconcile'; customer: number; whileReading: Step[]; racing: number[] }
);

const PLACE = { stripeAccount: 'platform', livemode: false };
const CONTEXT = { accountKeys: ['subledger_account_id'] };
const REFETCHER = 'timeline-refetcher';
/**
 * Once nothing changes, a read is written in its round or, having met a row of its second written while
 * it was on its way, in the next: two rounds suffice, the rest is margin.
 */
const SETTLE_ROUNDS = 4;

export class TimelineSync {
  readonly timeline = new StripeTimeline();
  readonly #pool: pg.Pool;
  readonly #inbox: Inbox;
  readonly #worker: InboxWorker;
  readonly #stripe = timelineStripe(this.timeline, () => this.#whileReading());
  readonly #refetch: RefetchDependencies;
  readonly #workerErrors: unknown[] = [];
  readonly #delivered = new Set<number>();
  /** The state each customer's row held after the last step. */
  readonly #held = new Map<string, number>();
  #whileReading: () => Promise<void> = async () => {};

  constructor(database: TestDatabase) {
    this.#pool = database.pool;
    this.#inbox = new Inbox(database.pool);
    this.#worker = new InboxWorker({
      pool: database.pool,
      apiVersion: API_VERSION,
      context: CONTEXT,
      batchSize: 100,
      onError: (error) => this.#workerErrors.push(error),
    });
    this.#refetch = {
      pool: database.pool,
      stripeFor: () => this.#stripe,
      context: CONTEXT,
      limiter: (call) => call(),
    };
  }

  /** Runs a step, then checks that no row went back to an older state. */
  async run(step: Step): Promise<void> {
    this.timeline.tick(step.tick);
    if (step.do === 'change') {
      this.timeline.change(CUSTOMERS[step.customer] as string, step);
    } else if (step.do === 'deliver') {
      await this.#deliver(this.#picked(step.picks));
    } else if (step.do === 'refetch') {
      await this.#ask(step.asks);
      await this.#serveRefetches(step.whileReading);
    } else {
      await this.#reconcile(step);
    }
    await this.#checkNeverBackwards();
  }

  /** Delivers every event not delivered yet, newest first, then serves refetches until none is left. */
  async settle(): Promise<void> {
    const undelivered = this.timeline.changes.filter((change) => !this.#delivered.has(change.number));
    for (const change of undelivered.reverse()) {
      await this.#deliver([change.number]);
      await this.#checkNeverBackwards();
    }
    for (let round = 1; await this.#refetchesQueued(); round++) {
      assert.ok(round <= SETTLE_ROUNDS, `refetches still queued after ${SETTLE_ROUNDS} rounds`);
      await this.#serveRefetches([]);
      await this.#checkNeverBackwards();
    }
  }

  /** Every row holds what Stripe holds now, and no event waits for anything. */
  async assertMirrorEqualsStripe(): Promise<void> {
    const rows = await this.#rows();
    for (const id of CUSTOMERS)
      assert.equal(
        this.timeline.stateHeldBy(id, rows.get(id)),
        this.timeline.stateOf(id),
        `${id} ended holding another state than Stripe's`,
      );
    const { rows: waiting } = await this.#pool.query(
      `select id, status, outcome from stripe_events where status <> 'processed' or outcome = 'refetch'`,
    );
    assert.deepEqual(waiting, [], 'events still waiting');
  }

  #picked(picks: number[]): number[] {
    const sent = this.timeline.changes.length;
    return sent === 0 ? [] : picks.map((pick) => sent - 1 - (pick % sent));
  }

  async #deliver(numbers: number[]): Promise<void> {
    await this.#store(numbers);
    await this.#worker.drain();
    this.#assertNoWorkerErrors();
  }

  async #store(numbers: number[]): Promise<void> {
    for (const number of numbers) {
      await this.#inbox.store(this.timeline.eventOf(this.timeline.changes[number] as Change));
      this.#delivered.add(number);
    }
  }

  #assertNoWorkerErrors(): void {
    assert.deepEqual(this.#workerErrors, [], 'the worker failed');
  }

  /** Reads of customers no event asked for, as a drift check asks for them. */
  async #ask(customers: number[]): Promise<void> {
    const existing = customers
      .map((index) => CUSTOMERS[index] as string)
      .filter((id) => this.timeline.stateOf(id) !== NO_STATE);
    const queue = refetchQueue(() => this.#pool);
    for (const id of existing) await queue.ask({ ...request(id), knownCreated: 0, reason: 'drift' });
  }

  async #serveRefetches(whileReading: Step[]): Promise<void> {
    const steps = stepsOnce(this, whileReading);
    this.#whileReading = steps;
    const leased = await leaseRefetches(this.#pool, REFETCHER, { limit: 100 });
    const served = await serveRefetches(this.#refetch, REFETCHER, leased);
    this.#whileReading = async () => {};
    // With no read, the steps run now; a step that failed while a read waited fails here.
    await steps();
    assert.deepEqual(served.failures, []);
  }

  async #reconcile(step: Extract<Step, { do: 'reconcile' }>): Promise<void> {
    const id = CUSTOMERS[step.customer] as string;
    const readAt = await databaseNow(this.#pool);
    const object = this.timeline.read(id);
    const asOf = this.timeline.nowS;
    for (const inner of step.whileReading) await this.run(inner);
    const racing = this.#picked(step.racing);
    if (!object) return this.#deliver(racing);
    let applying: Promise<unknown> = Promise.resolve();
    const target = { ...this.#refetch, stripe: this.#stripe, place: PLACE };
    const read = { kind: 'customer' as const, id, object, deleted: object.deleted === true, asOf, readAt };
    await writeFetched(target, [read], async (client) => {
      // What this transaction is about to commit is held from then on, whatever the racing batch does.
      await this.#checkNeverBackwards(client);
      await this.#store(racing);
      applying = this.#worker.drain();
      await untilBlockedOrDone(this.#pool, applying);
    });
    await applying;
    this.#assertNoWorkerErrors();
  }

  async #checkNeverBackwards(db: pg.Pool | pg.PoolClient = this.#pool): Promise<void> {
    const rows = await this.#rows(db);
    for (const id of CUSTOMERS) {
      const state = this.timeline.stateHeldBy(id, rows.get(id));
      const before = this.#held.get(id) ?? NO_STATE;
      assert.ok(state >= before, `${id} went back from change ${before} to ${describe(state)}`);
      this.#held.set(id, state);
    }
  }

  async #rows(db: pg.Pool | pg.PoolClient = this.#pool): Promise<Map<string, HeldRow>> {
    const { rows } = await db.query<HeldRow & { id: string }>(
      `select id, deleted, data->>'name' as name from customers`,
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  async #refetchesQueued(): Promise<boolean> {
    const { rows } = await this.#pool.query('select 1 from sync_refetches limit 1');
    return rows.length > 0;
  }
}

const describe = (state: number) => (state === NO_STATE ? 'no row' : `change ${state}`);

/**
 * Runs the steps on the first call only, a turn later: every read asked at once has taken its answer
 * by then, before any of the steps changes Stripe.
 */
function stepsOnce(sync: TimelineSync, steps: Step[]): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => {
    running ??= nextTurn().then(async () => {
      for (const step of steps) await sync.run(step);
    });
    return running;
  };
}

/** Resolves once `work` waits for a lock another transaction holds, or has ended. */
async function untilBlockedOrDone(pool: pg.Pool, work: Promise<unknown>): Promise<void> {
  let done = false;
  work.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  while (!done) {
    const { rows } = await pool.query(
      `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (rows.length > 0) return;
    await sleep(1);
  }
}
