import { BroadcastChannel } from 'node:worker_threads';
import pg from 'pg';
import type Stripe from 'stripe';
import type { Metrics } from '../src/telemetry/index.ts';

/**
 * What the bench observes inside the Subledger process without changing it: the moments transactions
 * commit, read off the `pg` client as queries pass (the worker's "mark processed" and the refetch job's
 * "delete done refetches", remembered per connection until its `commit` returns), the refetches asked
 * for by reason, the server-side acknowledgement times and every request the Stripe client makes. A
 * string comparison per query is all it adds. The workers run in a thread of their own, as under
 * `subledger start`: what they observe there is sent to the server's thread every 20 ms over a
 * broadcast channel, and merged into its probe.
 */
export type Probe = {
  /** Event id → epoch ms its batch committed; `commits` counts commits, so a repeat shows. */
  eventCommits: Map<string, number>;
  commits: number;
  /** `object_type|object_id` → epoch ms of each refetch commit that wrote it, in order. */
  refetchCommits: Map<string, number[]>;
  refetchRequests: Record<string, number>;
  refetchRequestKinds: Record<string, number>;
  ackServerMs: number[];
  /** Per webhook: its wait for the inbox commit in flight. Per commit: its time and its events. */
  inboxWaitMs: number[];
  inboxCommitMs: number[];
  inboxCommitEvents: number[];
  stripeRequests: Record<string, number>;
};

type Pending = { events?: string[]; refetched?: string[]; reasons?: string[]; kinds?: string[] };
/** A commit the workers' thread saw, as it is sent to the server's thread. */
type Settled = Pending & { at: number };
type Observed = { type: 'observed'; settled: Settled[]; stripeRequests: string[] };
type ProbeMessage = Observed | { type: 'flush'; id: number } | { type: 'flushed'; id: number };

const CHANNEL = 'subledger-bench-probe';
const SEND_EVERY_MS = 20;

const pendingByClient = new WeakMap<pg.Client, Pending>();

/** The server thread's probe: its acknowledgement histograms, and what the workers' thread sends. */
export function newProbe(metrics: Metrics) {
  const probe: Probe = {
    eventCommits: new Map(),
    commits: 0,
    refetchCommits: new Map(),
    refetchRequests: {},
    refetchRequestKinds: {},
    ackServerMs: [],
    inboxWaitMs: [],
    inboxCommitMs: [],
    inboxCommitEvents: [],
    stripeRequests: {},
  };
  tapHistogram(metrics.webhookAckSeconds, (value) => probe.ackServerMs.push(value * 1000));
  tapHistogram(metrics.inboxWaitSeconds, (value) => probe.inboxWaitMs.push(value * 1000));
  tapHistogram(metrics.inboxCommitSeconds, (value) => probe.inboxCommitMs.push(value * 1000));
  tapHistogram(metrics.inboxCommitEvents, (value) => probe.inboxCommitEvents.push(value));
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  const flushes = new Map<number, () => void>();
  let nextFlush = 0;
  channel.onmessage = (message) => {
    const data = (message as { data: ProbeMessage }).data;
    if (data.type === 'observed') {
      for (const settled of data.settled) settle(probe, settled);
      for (const resource of data.stripeRequests)
        probe.stripeRequests[resource] = (probe.stripeRequests[resource] ?? 0) + 1;
    } else if (data.type === 'flushed') flushes.get(data.id)?.();
  };
  return {
    probe,
    /** Resolves once the workers' thread has sent everything it observed so far. */
    flush(): Promise<void> {
      const id = nextFlush++;
      const flushed = new Promise<void>((resolve) => flushes.set(id, resolve));
      channel.postMessage({ type: 'flush', id } satisfies ProbeMessage);
      return flushed;
    },
    close: () => channel.close(),
  };
}

let observed: Observed | null = null;

/** In the workers' thread: taps its `pg` clients and Stripe client, and sends what they see. */
export function observeWorkers(stripe: Stripe | null): () => void {
  installQueryTap();
  const batch: Observed = { type: 'observed', settled: [], stripeRequests: [] };
  observed = batch;
  stripe?.on('response', (event: Stripe.ResponseEvent) => {
    batch.stripeRequests.push(
      `${event.method} ${event.path.split('?')[0]?.replace(/\/[a-z_]+_[A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*/g, '/:id')}`,
    );
  });
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  const send = () => {
    if (batch.settled.length === 0 && batch.stripeRequests.length === 0) return;
    channel.postMessage(batch);
    batch.settled = [];
    batch.stripeRequests = [];
  };
  const timer = setInterval(send, SEND_EVERY_MS);
  timer.unref();
  channel.onmessage = (message) => {
    const data = (message as { data: ProbeMessage }).data;
    if (data.type !== 'flush') return;
    send();
    channel.postMessage({ type: 'flushed', id: data.id } satisfies ProbeMessage);
  };
  return () => {
    send();
    clearInterval(timer);
    channel.close();
    if (observed === batch) observed = null;
  };
}

/** Sees every value a histogram observes (unlabelled histograms only), and still observes it. */
function tapHistogram(histogram: { observe: (value: number) => void }, see: (value: number) => void) {
  const observe = histogram.observe.bind(histogram) as (value: number) => void;
  histogram.observe = (value: number) => {
    see(value);
    observe(value);
  };
}

let installed = false;

function installQueryTap(): void {
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function tapped(this: pg.Client, ...args: unknown[]) {
    // Statements come as text, or as a config (the pool's clients name the ones they prepare).
    const [statement, values] = args;
    const config =
      typeof statement === 'string' ? { text: statement, values } : (statement as pg.QueryConfig);
    const text = typeof config?.text === 'string' ? config.text : '';
    note(this, text, (config?.values ?? values) as unknown[][] | undefined);
    const result = query.apply(this, args);
    if ((text === 'commit' || text === 'rollback') && result instanceof Promise) {
      const pending = pendingByClient.get(this);
      pendingByClient.delete(this);
      if (pending && text === 'commit')
        void result.then(
          () => observed?.settled.push({ ...pending, at: Date.now() }),
          () => {},
        );
    }
    return result;
  } as typeof pg.Client.prototype.query;
}

function note(client: pg.Client, text: string, values: unknown[][] | undefined): void {
  if (!values || text.length < 20) return;
  const pending = pendingByClient.get(client) ?? {};
  // A worker sends these alone or as parts of one statement (`writeTogether`): they are found anywhere
  // in the text, and their arrays by the parameters their `unnest` names.
  const marked = parametersAfter(text, "update stripe_events set status = 'processed'");
  const requested = parametersAfter(text, 'insert into sync_refetches');
  const array = (parameter: number | undefined) => (values[(parameter ?? 0) - 1] ?? []) as string[];
  if (marked) pending.events = [...(pending.events ?? []), ...array(marked[0])];
  if (requested) {
    pending.kinds = [...(pending.kinds ?? []), ...array(requested[0])];
    pending.reasons = [...(pending.reasons ?? []), ...array(requested[6])];
  }
  if (text.trimStart().startsWith('with done as (') && text.includes('delete from sync_refetches')) {
    const types = values[0] as string[];
    pending.refetched = (values[1] as string[]).map((id, index) => `${types[index]}|${id}`);
  } else if (!marked && !requested) return;
  pendingByClient.set(client, pending);
}

/** The parameter numbers of the first `unnest(...)` after `statement` in `text`, or null without it. */
function parametersAfter(text: string, statement: string): number[] | null {
  const at = text.indexOf(statement);
  if (at < 0) return null;
  const unnest = text.indexOf('unnest(', at);
  const list = text.slice(unnest, text.indexOf(')', unnest));
  return [...list.matchAll(/\$(\d+)/g)].map((match) => Number(match[1]));
}

function settle(probe: Probe, { at, ...pending }: Settled): void {
  for (const id of pending.events ?? []) {
    probe.commits++;
    if (!probe.eventCommits.has(id)) probe.eventCommits.set(id, at);
  }
  for (const key of pending.refetched ?? []) {
    const list = probe.refetchCommits.get(key) ?? [];
    list.push(at);
    probe.refetchCommits.set(key, list);
  }
  for (const reason of pending.reasons ?? [])
    probe.refetchRequests[reason] = (probe.refetchRequests[reason] ?? 0) + 1;
  for (const kind of pending.kinds ?? [])
    probe.refetchRequestKinds[kind] = (probe.refetchRequestKinds[kind] ?? 0) + 1;
}
