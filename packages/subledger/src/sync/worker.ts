import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { BEGIN_KEYED, postgresCode, rootError } from '../store/transaction.ts';
import { writeTogether } from './bulk-upsert.ts';
import { type ClaimedEvent, claimOne, claimReady, markFailed, payloadsOf, processedMarks } from './claim.ts';
import { embedsWholeList } from './columns.ts';
import { applyAccessEvents } from './connected-accounts.ts';
import type { StripeEventPayload } from './envelope.ts';
import { handlingOf } from './handlers.ts';
import { INBOX_CHANNEL } from './inbox.ts';
import type { ColumnContext } from './kinds.ts';
import { type MirrorWrite, writeMirror } from './mirror-writer.ts';
import {
  type EventFacts,
  MAX_ATTEMPTS,
  type Plan,
  planBatch,
  type RowVersion,
  retryDelaySeconds,
} from './ordering.ts';
import { type RefetchRequest, refetchRequests } from './refetch-queue.ts';
import { loadVersions, objectKeyOf } from './versions.ts';
import { connectionStringOf, WakeLoop } from './wake-loop.ts';

export type BatchReport = {
  claimed: number;
  /** Milliseconds the oldest claimed event had waited when the batch was claimed. */
  oldestWaitMs: number;
  outcomes: Map<string, string>;
  /** Milliseconds from receipt to commit, per event: webhook-to-visible latency. */
  visibleAfterMs: number[];
};

/** How many gather windows the oldest event of a batch may have waited before the loop counts as behind. */
const BEHIND_AFTER_GATHERS = 4;

export type WorkerOptions = {
  pool: pg.Pool;
  apiVersion: string;
  context: ColumnContext;
  batchSize: number;
  /** How long a loop keeping up lets events gather before its next batch (see `isBehind`). */
  gatherMs?: number;
  /** Loops claiming batches side by side in this process. */
  concurrency?: number;
  pollIntervalMs?: number;
  onBatch?: (report: BatchReport) => void;
  onError?: (error: unknown, eventId?: string) => void;
};

/**
 * Applies inbox events to the mirror. Each batch is one transaction: claim, plan (pure), write the
 * mirror with multi-row upserts, queue refetches, mark the events. A batch that fails is rolled back and
 * its events retried one by one, so one bad event is retried with backoff, then dead-lettered, alone.
 */
export class InboxWorker {
  readonly #options: WorkerOptions;
  #loop: WakeLoop | null = null;

  constructor(options: WorkerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#loop = new WakeLoop({
      connectionString: connectionStringOf(this.#options.pool),
      channel: INBOX_CHANNEL,
      step: async () => {
        const report = await this.processBatch();
        const { batchSize, gatherMs = 0 } = this.#options;
        return { found: report.claimed, behind: isBehind(report, batchSize, gatherMs) };
      },
      loops: this.#options.concurrency ?? 2,
      gatherMs: this.#options.gatherMs ?? 0,
      idleMs: this.#options.pollIntervalMs ?? 500,
      onError: (error) => this.#options.onError?.(error),
    });
    await this.#loop.start();
  }

  /** Finishes the batches in flight, then stops; unclaimed events stay in the inbox for the next worker. */
  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = null;
  }

  /** Processes batches until none is ready; returns how many events were settled. */
  async drain(): Promise<number> {
    let settled = 0;
    for (;;) {
      const report = await this.processBatch();
      settled += report.outcomes.size;
      if (report.claimed === 0) return settled;
    }
  }

  async processBatch(): Promise<BatchReport> {
    try {
      return await this.#inTransaction((client) => claimReady(client, this.#options.batchSize));
    } catch (batchError) {
      const failed = batchError instanceof BatchFailure ? batchError.eventIds : [];
      if (failed.length === 0) throw batchError instanceof BatchFailure ? batchError.cause : batchError;
      return this.#oneByOne(failed);
    }
  }

  async #oneByOne(eventIds: string[]): Promise<BatchReport> {
    const total: BatchReport = { claimed: 0, oldestWaitMs: 0, outcomes: new Map(), visibleAfterMs: [] };
    for (const id of eventIds) {
      try {
        const report = await this.#inTransaction((client) => claimOne(client, id));
        total.claimed += report.claimed;
        total.oldestWaitMs = Math.max(total.oldestWaitMs, report.oldestWaitMs);
        for (const [event, outcome] of report.outcomes) total.outcomes.set(event, outcome);
        total.visibleAfterMs.push(...report.visibleAfterMs);
      } catch (error) {
        const cause = error instanceof BatchFailure ? error.cause : error;
        this.#options.onError?.(cause, id);
        await markFailed(this.#options.pool, id, failureReason(cause), retryDelaySeconds, MAX_ATTEMPTS);
      }
    }
    return total;
  }

  async #inTransaction(claim: (client: pg.PoolClient) => Promise<ClaimedEvent[]>): Promise<BatchReport> {
    const client = await this.#options.pool.connect();
    let claimed: ClaimedEvent[] = [];
    try {
      await client.query(BEGIN_KEYED);
      claimed = await claim(client);
      const claimedAt = performance.now();
      const outcomes = await this.#apply(client, claimed);
      await client.query('commit');
      const sinceClaim = performance.now() - claimedAt;
      const report = {
        claimed: claimed.length,
        oldestWaitMs: Math.max(0, ...claimed.map((event) => event.waitedMs)),
        outcomes,
        visibleAfterMs: claimed.map((event) => event.waitedMs + sinceClaim),
      };
      if (claimed.length > 0) this.#options.onBatch?.(report);
      return report;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw new BatchFailure(
        claimed.map((event) => event.id),
        error,
      );
    } finally {
      client.release();
    }
  }

  /** Applies and settles the claimed events; returns their outcomes. */
  async #apply(client: pg.PoolClient, claimed: ClaimedEvent[]): Promise<Map<string, string>> {
    const db = drizzle(client);
    const outcomes = new Map<string, string>();
    const facts: EventFacts[] = [];
    const byId = new Map(claimed.map((event) => [event.id, event]));
    for (const event of claimed) {
      const handling = handlingOf(event.type, event.objectType);
      if (!handling || !event.objectId) outcomes.set(event.id, 'ignored');
      else facts.push({ ...event, handling, objectKey: objectKeyOf(handling.kind, event, event.objectId) });
    }
    // A connected account granting or revoking access: no query unless the batch holds such an event.
    for (const [id, outcome] of await applyAccessEvents(client, claimed)) outcomes.set(id, outcome);
    if (facts.length === 0) {
      await writeTogether(
        db,
        [processedMarks(outcomes)].filter((statement) => statement !== null),
      );
      return outcomes;
    }
    const versions: Map<string, RowVersion> = await loadVersions(client, facts, byId);
    const plan = planBatch(facts, versions, this.#options.apiVersion);
    const applied = [...plan.decisions.values()].flatMap((decision) =>
      decision.action === 'apply' ? [decision.event.id] : [],
    );
    const payloads = await payloadsOf(client, applied);
    refetchIncompleteLists(plan, payloads);
    const writes: MirrorWrite[] = [];
    const refetches: RefetchRequest[] = [];
    const sampleOf = new Map(facts.map((fact) => [fact.objectKey, fact]));
    for (const [objectKey, decision] of plan.decisions) {
      if (decision.action === 'apply') writes.push(writeOf(decision.event, byId, payloads));
      if (decision.action !== 'refetch') continue;
      const sample = sampleOf.get(objectKey) as EventFacts;
      const event = byId.get(sample.id) as ClaimedEvent;
      refetches.push({
        kind: sample.handling.kind,
        id: event.objectId as string,
        stripeAccount: event.stripeAccount,
        livemode: event.livemode,
        serialKey: event.serialKey,
        knownCreated: decision.knownCreated,
        reason: decision.reason,
      });
    }
    // The refetches asked and the events settled go with the writer's last statement: one round trip.
    await writeMirror(db, writes, this.#options.context, (taken) => {
      const written = new Set(taken);
      for (const write of writes) if (!written.has(write)) refetches.push(lostRace(write, byId, plan));
      for (const [id, outcome] of plan.outcomes) outcomes.set(id, outcome);
      return [refetchRequests(refetches), processedMarks(outcomes)];
    });
    return outcomes;
  }
}

/**
 * A full batch, or one whose oldest event had waited several gather windows, means events are waiting:
 * the loop goes on at once. Gathering is for keeping up with a trickle, never for working off a backlog.
 */
export function isBehind(
  report: Pick<BatchReport, 'claimed' | 'oldestWaitMs'>,
  batchSize: number,
  gatherMs: number,
): boolean {
  if (report.claimed === 0) return false;
  if (gatherMs === 0) return true;
  return report.claimed >= batchSize || report.oldestWaitMs > BEHIND_AFTER_GATHERS * gatherMs;
}

/**
 * A payload whose embedded list is one page of more (a subscription's items, an invoice's lines, a
 * summary's entitlements) cannot be applied as the whole object: its decision becomes a fetch, which
 * reads every page.
 */
function refetchIncompleteLists(plan: Plan, payloads: Map<string, StripeEventPayload>): void {
  for (const [objectKey, decision] of plan.decisions) {
    if (decision.action !== 'apply') continue;
    const { event } = decision;
    if (event.handling.action === 'tombstone') continue;
    const object = payloads.get(event.id)?.data.object;
    if (!object || embedsWholeList(event.handling.kind, object)) continue;
    plan.decisions.set(objectKey, {
      action: 'refetch',
      reason: 'incomplete_list',
      knownCreated: event.created,
    });
    plan.outcomes.set(event.id, 'refetch');
  }
}

/**
 * An applied write the database refused: a row the batch could not see when it planned (a reconcile or
 * backfill creating it, uncommitted, takes no serial-key lock) is of the event's second or newer. Which
 * of the two is newer cannot be told, so the object is read from Stripe, and the event counts as a
 * refetch; otherwise a deletion of that second would be lost until the next reconcile.
 */
function lostRace(write: MirrorWrite, byId: Map<string, ClaimedEvent>, plan: Plan): RefetchRequest {
  const event = byId.get(write.eventId as string) as ClaimedEvent;
  plan.outcomes.set(event.id, 'refetch');
  return {
    kind: write.kind,
    id: write.id,
    stripeAccount: write.stripeAccount,
    livemode: write.livemode,
    serialKey: event.serialKey,
    knownCreated: write.version,
    reason: 'lost_race',
  };
}

/**
 * The reason kept on a failed event: the innermost error (a query wrapper's message repeats the SQL and
 * its parameters, which carry customer data), with Postgres's error code when there is one.
 */
export function failureReason(error: unknown): string {
  const root = rootError(error);
  const code = postgresCode(error);
  const message = root instanceof Error ? root.message : String(root);
  return code ? `${message} (${code})` : message;
}

class BatchFailure extends Error {
  readonly eventIds: string[];
  override readonly cause: unknown;
  constructor(eventIds: string[], cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.eventIds = eventIds;
    this.cause = cause;
  }
}

function writeOf(
  fact: EventFacts,
  byId: Map<string, ClaimedEvent>,
  payloads: Map<string, StripeEventPayload>,
): MirrorWrite {
  const event = byId.get(fact.id) as ClaimedEvent;
  const payload = payloads.get(fact.id) as StripeEventPayload;
  return {
    kind: fact.handling.kind,
    id: event.objectId as string,
    stripeAccount: event.stripeAccount,
    livemode: event.livemode,
    object: payload.data.object,
    deleted: fact.handling.action === 'tombstone',
    version: event.created,
    eventId: event.id,
    source: 'event',
  };
}
