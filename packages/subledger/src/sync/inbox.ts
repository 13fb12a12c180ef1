import type pg from 'pg';
import { isDataError } from '../store/transaction.ts';
import type { CommitGate } from './commit-gate.ts';
import type { InboxEvent } from './envelope.ts';
import { NotifySpacing } from './notify-spacing.ts';

export type StoreResult = 'stored' | 'duplicate';

/**
 * An event Postgres refused for what it holds (see `isDataError`) even in a commit of its own: stored
 * again, it would fail the same way, so it is answered as bad input rather than as an outage. The
 * Postgres error is its `cause`.
 */
export class UnstorableEventError extends Error {
  readonly code = 'event_unstorable';
  constructor(cause: unknown) {
    super('Postgres cannot store this event', { cause });
  }
}

type Waiting = {
  event: InboxEvent;
  /** `performance.now()` when the event was handed to the inbox. */
  queuedAt: number;
  resolve: (result: StoreResult) => void;
  reject: (error: unknown) => void;
};

/**
 * One shared commit, as the inbox saw it: how many events it carried, how long each had waited for a
 * commit already in flight before its own began, and how long the insert and commit took. A webhook's
 * acknowledgement is mostly these two waits.
 */
export type InboxCommit = { events: number; waitedMs: number[]; commitMs: number };

export type InboxOptions = {
  maxBatch?: number;
  onCommit?: (commit: InboxCommit) => void;
  /** At most one commit per this many milliseconds notifies the workers (see `NotifySpacing`); 20. */
  notifySpacingMs?: number;
  /** Counts this inbox's commits in flight, for workers that yield to them (see `CommitGate`). */
  gate?: CommitGate;
  /** How long one of the inbox's statements may take; INBOX_COMMIT_TIMEOUT_MS. */
  commitTimeoutMs?: number;
};

/**
 * An inbox statement unanswered after this long fails, and its connection is discarded: its waiters get
 * 503, Stripe delivers again, and the next commit takes another connection. Commits run one at a time, so
 * one that a dead network path never answers (a managed-PG failover, a NAT entry timed out) held up every
 * later webhook until a restart. Under load with disk stalls a commit has taken up to about 2 s; five times
 * that fires on a dead connection, not on a slow disk. A commit that did succeed unseen costs nothing: the
 * delivery again is a duplicate of its event id.
 */
export const INBOX_COMMIT_TIMEOUT_MS = 10_000;

/**
 * `statement` failing after `timeoutMs`. node-postgres reads `query_timeout` on each statement too; a
 * statement past it fails, and `pool.query` releases its connection with that error, so the pool ends the
 * connection (destroying its socket, the statement still unanswered) rather than lending it again.
 */
const bounded = (
  statement: pg.QueryConfig,
  timeoutMs: number,
): pg.QueryConfig & { query_timeout: number } => ({
  ...statement,
  query_timeout: timeoutMs,
});

/** The channel workers listen on; a notification only says "look", the inbox table is the truth. */
export const INBOX_CHANNEL = 'subledger_inbox';

/**
 * Named, so that each connection parses and plans it once: planning it anew cost each acknowledgement
 * about a third of a millisecond, on the request's path. With or without the workers' notification.
 */
const insertEvents = (notify: boolean) => ({
  name: notify ? 'subledger_inbox_insert' : 'subledger_inbox_insert_quiet',
  text: `
  with incoming as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::text[], $6::bigint[],
                         $7::text[], $8::text[], $9::text[]) with ordinality
      as t(id, type, api_version, livemode, stripe_account, created, object_type, object_id, serial_key, n)
    join json_array_elements($10::json) with ordinality as p(payload, n) using (n)
  ), inserted as (
    insert into stripe_events
      (id, type, api_version, livemode, stripe_account, created, object_type, object_id, serial_key, payload)
    select id, type, api_version, livemode, stripe_account, created, object_type, object_id, serial_key, payload
    from incoming
    on conflict (id) do nothing
    returning id
  )
  select array(select id from inserted) as ids${notify ? `, pg_notify('${INBOX_CHANNEL}', '') is null as notified` : ''}`,
});
const INSERT_NOTIFYING = insertEvents(true);
const INSERT_QUIET = insertEvents(false);

/**
 * Stores verified events durably, grouping concurrent webhook requests into one insert and one commit:
 * while a commit is in flight, new arrivals queue and share the next one. At low load an event commits
 * alone at once; under load many share a commit, which is what keeps acknowledgements fast.
 */
export class Inbox {
  readonly #pool: pg.Pool;
  readonly #maxBatch: number;
  readonly #onCommit: InboxOptions['onCommit'];
  readonly #notifications: NotifySpacing;
  readonly #gate: CommitGate | undefined;
  readonly #timeoutMs: number;
  #queue: Waiting[] = [];
  #flushing = false;

  constructor(pool: pg.Pool, options: InboxOptions = {}) {
    this.#pool = pool;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#onCommit = options.onCommit;
    this.#gate = options.gate;
    this.#timeoutMs = options.commitTimeoutMs ?? INBOX_COMMIT_TIMEOUT_MS;
    this.#notifications = new NotifySpacing(options.notifySpacingMs ?? 20, () =>
      pool.query(bounded({ text: `select pg_notify('${INBOX_CHANNEL}', '')` }, this.#timeoutMs)),
    );
  }

  /** Resolves once the event is committed (or was already there); rejects when it could not be stored. */
  store(event: InboxEvent): Promise<StoreResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, queuedAt: performance.now(), resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0, this.#maxBatch));
    this.#flushing = false;
  }

  async #commit(batch: Waiting[]): Promise<void> {
    let stored: Set<string>;
    const startedAt = performance.now();
    try {
      stored = await this.#insert(batch.map((waiting) => waiting.event));
    } catch (error) {
      // An event Postgres cannot hold (a \u0000 in an id, an index row over its limit, JSON nested too
      // deep) must not fail the events that shared its commit: each is then stored alone, and only it is
      // refused, as unstorable. Any other error (an outage) fails the whole batch, to be delivered again.
      if (!isDataError(error)) for (const waiting of batch) waiting.reject(error);
      else if (batch.length > 1) for (const waiting of batch) await this.#commit([waiting]);
      else batch[0]?.reject(new UnstorableEventError(error));
      return;
    }
    this.#onCommit?.({
      events: batch.length,
      waitedMs: batch.map((waiting) => startedAt - waiting.queuedAt),
      commitMs: performance.now() - startedAt,
    });
    const claimed = new Set<string>();
    for (const waiting of batch) {
      const first = stored.has(waiting.event.id) && !claimed.has(waiting.event.id);
      claimed.add(waiting.event.id);
      waiting.resolve(first ? 'stored' : 'duplicate');
    }
  }

  async #insert(events: InboxEvent[]): Promise<Set<string>> {
    const unique = [...new Map(events.map((event) => [event.id, event])).values()];
    const column = <T>(read: (event: InboxEvent) => T) => unique.map(read);
    const values = [
      column((event) => event.id),
      column((event) => event.type),
      column((event) => event.apiVersion),
      column((event) => event.livemode),
      column((event) => event.stripeAccount),
      column((event) => event.created),
      column((event) => event.objectType),
      column((event) => event.objectId),
      column((event) => event.serialKey),
      // One JSON array of the payloads as received: as an array parameter, every quote in them would be
      // escaped, twice, on the way.
      `[${column((event) => event.json).join(',')}]`,
    ];
    const notify = this.#notifications.claim();
    this.#gate?.enter();
    const result = await this.#pool
      .query<{ ids: string[] }>(
        bounded({ ...(notify ? INSERT_NOTIFYING : INSERT_QUIET), values }, this.#timeoutMs),
      )
      .catch((error: unknown) => {
        if (notify) this.#notifications.failed();
        throw error;
      })
      .finally(() => this.#gate?.leave());
    if (!notify) this.#notifications.uncovered();
    return new Set(result.rows[0]?.ids ?? []);
  }
}
