import {
  AggregatorRegistry,
  Counter,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';

/** One registry's metrics as JSON: what another thread of the process sends to be summed in. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Seconds from half a millisecond to a quarter second: an inbox commit's range, stalls included. */
const INBOX_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Prometheus metrics of one Subledger instance (its own registry, so instances never collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly #others: (() => Promise<MetricsSnapshot>)[] = [];
  readonly webhookAnswers = new Counter({
    name: 'subledger_webhook_answers_total',
    help: 'Webhook requests answered, by HTTP status and result code',
    labelNames: ['status', 'code'] as const,
    registers: [this.registry],
  });
  readonly webhookAckSeconds = new Histogram({
    name: 'subledger_webhook_ack_seconds',
    help: 'Time from a webhook request arriving to its acknowledgement',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly inboxWaitSeconds = new Histogram({
    name: 'subledger_inbox_wait_seconds',
    help: 'Time a webhook waits for the inbox commit in flight before its own commit begins',
    buckets: INBOX_SECONDS,
    registers: [this.registry],
  });
  readonly inboxCommitSeconds = new Histogram({
    name: 'subledger_inbox_commit_seconds',
    help: 'Time an inbox insert and its commit take, per commit (webhooks arriving together share one)',
    buckets: INBOX_SECONDS,
    registers: [this.registry],
  });
  readonly inboxCommitEvents = new Histogram({
    name: 'subledger_inbox_commit_events',
    help: 'Webhook events sharing one inbox commit',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  });
  readonly eventsSettled = new Counter({
    name: 'subledger_events_settled_total',
    help: 'Inbox events settled by workers, by outcome (applied, stale, superseded, refetch, ignored)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsFailed = new Counter({
    name: 'subledger_event_failures_total',
    help: 'Failed attempts at applying an inbox event',
    registers: [this.registry],
  });
  readonly refetchesGivenUp = new Counter({
    name: 'subledger_refetches_given_up_total',
    help: 'Objects whose read Stripe kept refusing (4xx), or which Postgres could not store; the events that asked are dead-lettered',
    registers: [this.registry],
  });
  readonly visibleSeconds = new Histogram({
    name: 'subledger_webhook_to_visible_seconds',
    help: 'Time from an event being stored to its effect being committed to the mirror',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly stripeRequests = new Counter({
    name: 'subledger_stripe_requests_total',
    help: 'HTTP requests made to Stripe (retries included), by method and status',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });

  /** Adds the metrics `snapshot` returns to this instance's (e.g. those of the workers' thread). */
  include(snapshot: () => Promise<MetricsSnapshot>): void {
    this.#others.push(snapshot);
  }

  /** The Prometheus text of this registry, with every included snapshot summed in. */
  async exposition(): Promise<string> {
    if (this.#others.length === 0) return this.registry.metrics();
    const snapshots = await Promise.all([this.snapshot(), ...this.#others.map((snapshot) => snapshot())]);
    return AggregatorRegistry.aggregate(snapshots).metrics();
  }

  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }
}
