import type { Scope } from '../core/scope.ts';
import { createSetupIntent, type WireSetupIntent } from '../payments/index.ts';

/** A setup-mode session collects its card through a setup intent made when the session is. */
export function createSessionSetupIntent(
  scope: Scope,
  customer: string | null,
  metadata: Record<string, string>,
  at: number,
): WireSetupIntent {
  return createSetupIntent(scope, {
    customer,
    description: null,
    metadata,
    paymentMethod: null,
    usage: 'off_session',
    at,
  });
}
