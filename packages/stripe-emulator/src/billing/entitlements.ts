import { refreshActiveEntitlements } from '../catalog/index.ts';
import type { Scope } from '../core/scope.ts';
import type { Partition } from '../core/store.ts';

/**
 * Active entitlements follow subscriptions: after any change to a subscription's status or items, the
 * customer's entitlements are recomputed. Inside an all-or-nothing operation the refresh waits until
 * the operation has committed or rolled back, so it always sees the final state.
 */
const deferred = new WeakMap<Partition, Set<string>>();

export function subscriptionChanged(scope: Scope, customerId: string): void {
  const waiting = deferred.get(scope.partition);
  if (waiting) waiting.add(customerId);
  else refreshActiveEntitlements(scope, customerId);
}

/** Runs `operation` with entitlement refreshes held back, then refreshes each customer once. */
export function withDeferredEntitlements<T>(scope: Scope, operation: () => T): T {
  if (deferred.has(scope.partition)) return operation();
  const waiting = new Set<string>();
  deferred.set(scope.partition, waiting);
  try {
    return operation();
  } finally {
    deferred.delete(scope.partition);
    for (const customerId of waiting) refreshActiveEntitlements(scope, customerId);
  }
}
