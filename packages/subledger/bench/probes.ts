import pg from 'pg';
import type Stripe from 'stripe';
import type { Subledger } from '../src/subledger.ts';

/**
 * What the bench observes inside the Subledger process without changing it: the moments transactions
 * commit, read off the `pg` client as queries pass (the worker's "mark processed" and the refetch job's
 * "delete done refetches", remembered per connection until its `commit` returns), the refetches asked
 * for by reason, the server-side acknowledgement times and every request the Stripe client makes. A
 * string comparison per query is all it adds.
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

const pendingByClient = new WeakMap<pg.Client, Pending>();
let current: Probe | null = null;

export function newProbe(subledger: Subledger): Probe {
  installQueryTap();
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
  const { metrics } = subledger;
  tapHistogram(metrics.webhookAckSeconds, (value) => probe.ackServerMs.push(value * 1000));
  tapHistogram(metrics.inboxWaitSeconds, (value) => probe.inboxWaitMs.push(value * 1000));
  tapHistogram(metrics.inboxCommitSeconds, (value) => probe.inboxCommitMs.push(value * 1000));
  tapHistogram(metrics.inboxCommitEvents, (value) => probe.inboxCommitEvents.push(value));
  subledger.stripe?.on('response', (event: Stripe.ResponseEvent) => {
    const resource = `${event.method} ${event.path.split('?')[0]?.replace(/\/[a-z_]+_[A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*/g, '/:id')}`;
    probe.stripeRequests[resource] = (probe.stripeRequests[resource] ?? 0) + 1;
  });
  current = probe;
  return probe;
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
    const [config, values] = args;
    const text = typeof config === 'string' ? config : '';
    note(this, text, values as unknown[][] | undefined);
    const result = query.apply(this, args);
    if ((text === 'commit' || text === 'rollback') && result instanceof Promise) {
      const pending = pendingByClient.get(this);
      pendingByClient.delete(this);
      if (pending && text === 'commit')
        void result.then(
          () => settle(pending, Date.now()),
          () => {},
        );
    }
    return result;
  } as typeof pg.Client.prototype.query;
}

function note(client: pg.Client, text: string, values: unknown[][] | undefined): void {
  if (!values || text.length < 20) return;
  const pending = pendingByClient.get(client) ?? {};
  const head = text.trimStart();
  if (head.startsWith("update stripe_events set status = 'processed'"))
    pending.events = [...(pending.events ?? []), ...(values[0] as string[])];
  else if (head.startsWith('insert into sync_refetches')) {
    pending.kinds = [...(pending.kinds ?? []), ...(values[0] as string[])];
    pending.reasons = [...(pending.reasons ?? []), ...(values[6] as string[])];
  } else if (head.startsWith('with done as (') && head.includes('delete from sync_refetches')) {
    const types = values[0] as string[];
    pending.refetched = (values[1] as string[]).map((id, index) => `${types[index]}|${id}`);
  } else return;
  pendingByClient.set(client, pending);
}

function settle(pending: Pending, at: number): void {
  const probe = current;
  if (!probe) return;
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
