import { Random } from '../core/random.ts';
import type { Emulator } from '../emulator.ts';
import {
  type ApiFaultKind,
  type ApiFaultRates,
  describeIssue,
  type FaultOptions,
  faultOptionsSchema,
  type QueuedApiFault,
  type QueuedWebhookFault,
  type WebhookFaultRates,
} from './config.ts';

/**
 * The faults in force for one emulator: per-run rates for API calls and webhook deliveries, and the
 * queues of one-shot faults ("the next 2 POSTs to /v1/customers get a 429").
 *
 * Faults draw from their own random streams, derived from the emulator's seed: turning faults on does
 * not change the ids the emulator hands out, and the order in which API calls and webhook deliveries
 * interleave in time does not change which of them fail. Same seed, same requests → same faults.
 */
export class FaultState {
  api: ApiFaultRates = {};
  webhooks: WebhookFaultRates = {};
  readonly apiQueue: QueuedApiFault[] = [];
  readonly webhookQueue: QueuedWebhookFault[] = [];
  readonly apiRandom: Random;
  readonly webhookRandom: Random;
  /**
   * Reorder windows shuffle from a stream of their own: a window may be let go by a timer, and a
   * shuffle drawn at a time-dependent moment must not shift the drop/duplicate/delay draws after it.
   */
  readonly reorderRandom: Random;
  /**
   * The API faults that acted, by kind, since the emulator started or was reset: proof for a test that
   * the code it drives met them. Turning faults off keeps the count.
   */
  readonly appliedApi = new Map<ApiFaultKind, number>();
  readonly #listeners: (() => void)[] = [];

  constructor(seed: number) {
    this.apiRandom = new Random(deriveSeed(seed, 0x2545f491));
    this.webhookRandom = new Random(deriveSeed(seed, 0x68e31da4));
    this.reorderRandom = new Random(deriveSeed(seed, 0x1b873593));
  }

  /** Replaces the rate sections present in `options` and appends its queued faults. */
  configure(options: FaultOptions): void {
    const parsed = faultOptionsSchema.safeParse(options);
    if (!parsed.success) throw new FaultConfigError(describeIssue(parsed.error));
    const { api, webhooks, next } = parsed.data;
    if (api) this.api = api;
    if (webhooks) this.webhooks = webhooks;
    this.apiQueue.push(...(next?.api ?? []));
    this.webhookQueue.push(...(next?.webhooks ?? []));
    this.#changed();
  }

  /** No faults at all. The random streams carry on, so a replayed run stays a replay. */
  reset(): void {
    this.api = {};
    this.webhooks = {};
    this.apiQueue.length = 0;
    this.webhookQueue.length = 0;
    this.#changed();
  }

  /** Records a fault that acted on a request (a latency of 0 did not). */
  countApplied(kind: ApiFaultKind): void {
    this.appliedApi.set(kind, (this.appliedApi.get(kind) ?? 0) + 1);
  }

  /** Called whenever the configuration changes (the webhook publisher releases its reorder windows). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  snapshot() {
    return {
      seed: { api: this.apiRandom.seed, webhooks: this.webhookRandom.seed, reorder: this.reorderRandom.seed },
      api: this.api,
      webhooks: this.webhooks,
      next: { api: [...this.apiQueue], webhooks: [...this.webhookQueue] },
      applied: { api: Object.fromEntries(this.appliedApi) },
    };
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

export class FaultConfigError extends Error {
  readonly param: string;

  constructor(issue: { message: string; param: string }) {
    super(issue.message);
    this.param = issue.param;
  }
}

/** A second 32-bit seed from the first, so each fault stream differs from the id stream. */
function deriveSeed(seed: number, salt: number): number {
  return Math.imul(seed ^ salt, 0x9e3779b1) | 0;
}

const states = new WeakMap<Emulator, FaultState>();

/** The fault state of an emulator, created from `options.faults` on first use. */
export function faultsOf(emulator: Emulator): FaultState {
  let state = states.get(emulator);
  if (!state) {
    state = new FaultState(emulator.random.seed);
    if (emulator.options.faults) state.configure(emulator.options.faults);
    states.set(emulator, state);
  }
  return state;
}
