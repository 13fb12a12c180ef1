import type { Scope } from '../core/scope.ts';

/**
 * Ids of the newer Stripe objects (features, entitlements, meters) say their mode:
 * `feat_test_61QGU1MW…` in test mode, `feat_61QGU1MW…` in live mode, 32 characters after it.
 */
export function modeId(scope: Scope, prefix: string): string {
  const mode = scope.partition.livemode ? '' : 'test_';
  return `${prefix}_${mode}${scope.emulator.random.token(32)}`;
}
