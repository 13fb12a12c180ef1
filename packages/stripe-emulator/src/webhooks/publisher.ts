import type { Partition } from '../core/store.ts';
import type { Emulator, WebhookPublisher } from '../emulator.ts';
import type { WireEvent } from '../events/emit.ts';
import { type FaultState, planDelivery, ReorderWindow, takeWebhookFault } from '../faults/index.ts';
import { retryDelayMs } from './backoff.ts';
import { DeliveryLog } from './delivery-log.ts';
import { currentReceiver, type Receiver, receiversOf } from './endpoints.ts';
import type { DeliverySettings } from './options.ts';
import { signatureHeader } from './signature.ts';
import { postJson } from './transport.ts';

/** One event on its way to one endpoint (one copy of it, when a fault duplicates it). */
type Delivery = {
  event: { id: string; type: string };
  body: string;
  eventHome: Partition;
  endpointHome: Partition;
  endpoint: string;
  url: string;
  copy: number;
  /** Attempts made so far. */
  attempts: number;
  faults: string[];
};

/** The deliveries of one endpoint: sent one at a time, so they arrive in the order they were queued. */
type Lane = { queue: Delivery[]; sending: boolean; window: ReorderWindow<Delivery> | null };

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  accept: '*/*; q=0.5, application/xml',
  'cache-control': 'no-cache',
};

/**
 * Sends every event to the endpoints that listen to it, outside the API request that caused it:
 * signed like Stripe's, per endpoint in the order emitted, retried with exponential backoff until the
 * endpoint answers 2xx or the attempts run out, with the webhook faults in force applied on the way.
 * Every timer is unref'd, so a pending retry never keeps a process alive; `stop()` ends everything.
 */
export class WebhookDispatcher implements WebhookPublisher {
  readonly log = new DeliveryLog();
  readonly settings: DeliverySettings;
  readonly #emulator: Emulator;
  readonly #faults: FaultState;
  readonly #lanes = new Map<string, Lane>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #acknowledged = new Set<string>();
  readonly #abort = new AbortController();
  #outstanding = 0;
  #idleWaiters: (() => void)[] = [];
  #stopped = false;

  constructor(emulator: Emulator, settings: DeliverySettings, faults: FaultState) {
    this.#emulator = emulator;
    this.settings = settings;
    this.#faults = faults;
    faults.onChange(() => this.#releaseWindows());
  }

  pendingFor(partition: Partition, type: string): number {
    return receiversOf(this.#emulator, partition, type).length;
  }

  publish(event: WireEvent, partition: Partition): void {
    if (this.#stopped) return;
    const receivers = receiversOf(this.#emulator, partition, event.type);
    if (receivers.length === 0) return;
    const body = JSON.stringify(event, null, 2);
    const queuedFault = takeWebhookFault(this.#faults.webhookQueue, event.type);
    for (const receiver of receivers) {
      const plan = planDelivery(this.#faults.webhooks, queuedFault, this.#faults.webhookRandom);
      const delivery = this.#newDelivery(event, body, partition, receiver, plan.faults);
      if (plan.drop) {
        this.#record(delivery, { status: 'dropped', statusCode: null, error: null, durationMs: 0 });
        continue;
      }
      for (let copy = 0; copy <= plan.extraCopies; copy++) {
        this.#outstanding++;
        const copied = { ...delivery, copy };
        if (plan.delayMs > 0) this.#later(plan.delayMs, () => this.#admit(copied));
        else this.#admit(copied);
      }
    }
  }

  /** Deliveries queued, in flight, waiting for a retry or held by a fault. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * Resolves `true` once nothing is left to send (deliveries held in reorder windows are let go at
   * once), or `false` if that takes longer than `timeoutMs`.
   */
  drain(timeoutMs = 30_000): Promise<boolean> {
    this.#releaseWindows();
    if (this.#outstanding === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.#idleWaiters.push(wake);
    });
  }

  /** Stops for good: pending timers are cleared and deliveries in flight are aborted. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#lanes.clear();
    this.#outstanding = 0;
    this.#wakeIdleWaiters();
  }

  #newDelivery(
    event: WireEvent,
    body: string,
    eventHome: Partition,
    receiver: Receiver,
    faults: string[],
  ): Delivery {
    return {
      event: { id: event.id, type: event.type },
      body,
      eventHome,
      endpointHome: receiver.home,
      endpoint: receiver.endpoint.id,
      url: receiver.endpoint.url,
      copy: 0,
      attempts: 0,
      faults,
    };
  }

  /** A delivery joins its endpoint's lane, through the reorder window when reordering is on. */
  #admit(delivery: Delivery): void {
    const lane = this.#lane(delivery.endpoint);
    const { reorderWindow, reorderWindowMs } = this.#faults.webhooks;
    const reordering = (reorderWindow !== undefined || reorderWindowMs !== undefined) && !this.#draining;
    if (!reordering) {
      this.#enqueue(lane, delivery);
      return;
    }
    lane.window ??= new ReorderWindow(reorderWindow, (items) => this.#faults.reorderRandom.shuffle(items));
    const window = lane.window;
    const released = window.add({ ...delivery, faults: [...delivery.faults, 'reorder'] });
    for (const item of released) this.#enqueue(lane, item);
    if (window.length === 1 && reorderWindowMs !== undefined)
      this.#later(reorderWindowMs, () => {
        if (lane.window === window) for (const item of window.release()) this.#enqueue(lane, item);
      });
  }

  get #draining(): boolean {
    return this.#idleWaiters.length > 0;
  }

  #releaseWindows(): void {
    for (const lane of this.#lanes.values()) {
      const held = lane.window?.release() ?? [];
      lane.window = null;
      for (const item of held) this.#enqueue(lane, item);
    }
  }

  #lane(endpoint: string): Lane {
    let lane = this.#lanes.get(endpoint);
    if (!lane) {
      lane = { queue: [], sending: false, window: null };
      this.#lanes.set(endpoint, lane);
    }
    return lane;
  }

  #enqueue(lane: Lane, delivery: Delivery): void {
    lane.queue.push(delivery);
    this.#pump(lane);
  }

  /** Sends the lane's next delivery on a later turn of the event loop, never inside the caller. */
  #pump(lane: Lane): void {
    if (lane.sending || this.#stopped) return;
    const next = lane.queue.shift();
    if (!next) return;
    lane.sending = true;
    this.#later(0, async () => {
      await this.#attempt(next);
      lane.sending = false;
      this.#pump(lane);
    });
  }

  async #attempt(delivery: Delivery): Promise<void> {
    const receiver = currentReceiver(this.#emulator, delivery.endpointHome, delivery.endpoint);
    if (receiver?.endpoint.status !== 'enabled') {
      this.#record(delivery, { status: 'canceled', statusCode: null, error: 'endpoint disabled or deleted' });
      return this.#settle();
    }
    delivery.attempts++;
    const startedMs = this.#wallClockMs();
    // Signed with the real wall clock, not the emulator's advanced one: receivers check the timestamp
    // against their own clock (constructEvent's 300 s tolerance).
    const signature = signatureHeader(delivery.body, receiver.secret, Math.floor(startedMs / 1000));
    const headers = { ...HEADERS, 'stripe-signature': signature };
    const outcome = await postJson(
      receiver.endpoint.url,
      delivery.body,
      headers,
      this.settings.timeoutMs,
      this.#abort.signal,
    );
    if (this.#stopped) return;
    const result = { ...outcome, durationMs: this.#wallClockMs() - startedMs, at: startedMs };
    if (outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300) {
      this.#record({ ...delivery, url: receiver.endpoint.url }, { status: 'succeeded', ...result });
      this.#acknowledge(delivery);
      return this.#settle();
    }
    const wait = retryDelayMs(delivery.attempts, this.settings.retry);
    const status = wait === null ? 'failed' : 'retrying';
    this.#record({ ...delivery, url: receiver.endpoint.url }, { status, ...result, nextAttemptInMs: wait });
    if (wait === null) return this.#settle();
    this.#later(wait, () => this.#enqueue(this.#lane(delivery.endpoint), delivery));
  }

  /** The endpoint has the event: `pending_webhooks` goes down once per endpoint, whatever the copies. */
  #acknowledge(delivery: Delivery): void {
    const key = `${delivery.event.id}|${delivery.endpoint}`;
    if (this.#acknowledged.has(key)) return;
    this.#acknowledged.add(key);
    const { account, livemode } = delivery.eventHome;
    const events = this.#emulator.partition(account, livemode).table<WireEvent>('event');
    const stored = events.get(delivery.event.id);
    if (stored) events.replace({ ...stored, pending_webhooks: Math.max(0, stored.pending_webhooks - 1) });
  }

  #record(
    delivery: Delivery,
    result: {
      status: 'succeeded' | 'retrying' | 'failed' | 'dropped' | 'canceled';
      statusCode: number | null;
      error: string | null;
      durationMs?: number;
      at?: number;
      nextAttemptInMs?: number | null;
    },
  ): void {
    this.log.record({
      event: delivery.event.id,
      type: delivery.event.type,
      endpoint: delivery.endpoint,
      url: delivery.url,
      attempt: result.status === 'dropped' || result.status === 'canceled' ? 0 : delivery.attempts,
      copy: delivery.copy,
      status: result.status,
      statusCode: result.statusCode,
      error: result.error,
      at: new Date(result.at ?? this.#wallClockMs()).toISOString(),
      durationMs: result.durationMs ?? 0,
      nextAttemptInMs: result.nextAttemptInMs ?? null,
      faults: delivery.faults,
    });
  }

  #settle(): void {
    this.#outstanding = Math.max(0, this.#outstanding - 1);
    if (this.#outstanding === 0) this.#wakeIdleWaiters();
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #later(ms: number, work: () => void | Promise<void>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void work();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #wallClockMs(): number {
    return (this.#emulator.options.wallClockMs ?? Date.now)();
  }
}
