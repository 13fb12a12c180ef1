import type { Emulator } from '../emulator.ts';
import type { Partition } from './store.ts';

/** The request that caused a change, as events report it (`event.request`). */
export type Cause = { id: string | null; idempotency_key: string | null };

/**
 * Where a piece of work happens: which emulator, which account's objects, and which API request (if
 * any) caused it. Handlers and the billing engine take a scope instead of reaching for globals, so a
 * clock advance and an API call run the same code.
 */
export type Scope = {
  emulator: Emulator;
  partition: Partition;
  cause: Cause;
};

export const backgroundCause: Cause = { id: null, idempotency_key: null };

export function scopeFor(emulator: Emulator, partition: Partition, cause: Cause = backgroundCause): Scope {
  return { emulator, partition, cause };
}
