import type { BillingOptions } from './billing/options.ts';
import { SystemClock } from './core/clock.ts';
import { IdempotencyKeys } from './core/idempotency.ts';
import { Random } from './core/random.ts';
import { type Cause, type Scope, scopeFor } from './core/scope.ts';
import { type Partition, Store } from './core/store.ts';
import type { WireEvent } from './events/emit.ts';
import type { FaultOptions } from './faults/config.ts';
import type { Route } from './server/route.ts';
import type { WebhookOptions } from './webhooks/options.ts';

/** The API version the emulator speaks: the one `stripe` v23 pins. */
export const API_VERSION = '2026-10-28.endive';

/** Webhook delivery, as the rest of the emulator sees it. */
export interface WebhookPublisher {
  /** How many endpoints will receive an event of this type (`event.pending_webhooks`). */
  pendingFor(partition: Partition, type: string): number;
  publish(event: WireEvent, partition: Partition): void;
}

/**
 * Faults injected into API calls (429s, 5xx, latency, timeouts). Given the incoming request, it may
 * delay it, or answer instead of the emulator; `null` lets the request through.
 */
export interface ApiFaultInjector {
  intercept(request: Request, requestId: string): Promise<Response | null>;
}

export type Includable = (object: Record<string, unknown>, partition: Partition) => unknown;

/** Background work the emulator runs on the system clock (dunning retries, webhook retries …). */
export interface Ticker {
  tick(nowSeconds: number): void | Promise<void>;
}

export type EmulatorOptions = {
  /** Seed for ids, faults and delivery order; the same seed replays the same run. */
  seed?: number;
  /** Injected wall clock in milliseconds, for tests that control time. */
  wallClockMs?: () => number;
  /** Webhook delivery: per-attempt timeout and retry schedule. */
  webhooks?: WebhookOptions;
  /** Faults in force from the start of the run (API errors, latency, webhook drops …). */
  faults?: FaultOptions;
  /** Billing: the dunning schedule and final outcome, how long renewal drafts wait. */
  billing?: BillingOptions;
};

/**
 * The emulator's state and services. Resources, the billing engine and the HTTP layer all hang off
 * one instance; several instances in one process never share anything.
 */
export class Emulator {
  readonly apiVersion = API_VERSION;
  readonly store = new Store();
  readonly idempotency = new IdempotencyKeys();
  readonly random: Random;
  readonly clock: SystemClock;
  readonly routes: Route[] = [];
  readonly tickers: Ticker[] = [];
  /** What `/_emulator/reset` and `close` must also clear or stop, registered by modules. */
  readonly onReset: (() => void)[] = [];
  readonly onClose: (() => void)[] = [];
  /** Fields computed on request through `expand[]`, by object name and field name. */
  readonly includables: Record<string, Record<string, Includable>> = {};
  webhooks: WebhookPublisher = { pendingFor: () => 0, publish: () => {} };
  apiFaults: ApiFaultInjector = { intercept: async () => null };

  readonly options: EmulatorOptions;

  constructor(options: EmulatorOptions = {}) {
    this.options = options;
    this.random = new Random(options.seed ?? Date.now() % 2 ** 31);
    this.clock = new SystemClock(options.wallClockMs);
  }

  partition(account: string | null, livemode: boolean): Partition {
    return this.store.partition(account, livemode);
  }

  scope(partition: Partition, cause?: Cause): Scope {
    return scopeFor(this, partition, cause);
  }

  /** Finds any stored object by table name and id, for expansion and cross-references. */
  find(partition: Partition, objectName: string, id: string): unknown {
    return partition.table<{ id: string }>(objectName).get(id);
  }

  /**
   * "Now" for objects on a test clock (its frozen time) or, with no clock, the system time. Billing
   * objects take the clock of their customer.
   */
  nowFor(partition: Partition, testClock: string | null | undefined): number {
    if (!testClock) return this.clock.nowSeconds();
    const clock = partition
      .table<{ id: string; frozen_time: number }>('test_helpers.test_clock')
      .get(testClock);
    return clock?.frozen_time ?? this.clock.nowSeconds();
  }

  /** Registers a field that `expand[]` computes on request, e.g. `customer.tax`. */
  includable(objectName: string, field: string, compute: Includable): void {
    this.includables[objectName] ??= {};
    this.includables[objectName][field] = compute;
  }

  /** Forgets every object, idempotency key, delivery and fault setting: a fresh emulator. */
  reset(): void {
    this.store.clear();
    this.idempotency.clear();
    for (const reset of this.onReset) reset();
  }

  /** Stops background work (webhook deliveries, retries) for good. */
  close(): void {
    for (const close of this.onClose) close();
  }

  /** Runs every ticker once at the current system time. */
  async tick(): Promise<void> {
    const now = this.clock.nowSeconds();
    for (const ticker of this.tickers) await ticker.tick(now);
  }
}
