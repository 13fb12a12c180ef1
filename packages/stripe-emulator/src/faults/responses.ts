import { apiError, rateLimited, StripeError } from '../core/errors.ts';
import { errorResponse } from '../server/app.ts';

export type StatusFaultKind = 'rate_limit' | 'lock_timeout' | 'server_error' | 'unavailable';

const lockTimeout = () =>
  new StripeError(429, {
    type: 'invalid_request_error',
    code: 'lock_timeout',
    doc_url: 'https://stripe.com/docs/error-codes/lock-timeout',
    message:
      'This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate. See https://stripe.com/docs/rate-limits for more details.',
  });

/**
 * The response real Stripe gives for each fault, headers included, because the SDK decides whether to
 * retry from them (`RequestSender._shouldRetry`): `Stripe-Should-Retry: true` → retry; otherwise 409
 * and ≥ 500 are retried and everything else (a plain 429 too) is not.
 *
 * - A rate limit carries `Stripe-Rate-Limited-Reason` and no `Stripe-Should-Retry`: stripe-node does not
 *   retry rate limits on purpose (stripe/stripe-node#1110: "getting that error usually means there's
 *   something up with your application").
 * - A lock timeout is the 429 Stripe asks clients to retry (`Stripe-Should-Retry: true`,
 *   stripe/stripe-dotnet#1886).
 * - 500 and 503 carry no hint, so the SDK retries them when `maxNetworkRetries` allows.
 */
export function faultResponse(kind: StatusFaultKind, requestId: string, version: string): Response {
  switch (kind) {
    case 'rate_limit':
      return withHeaders(errorResponse(rateLimited(), requestId, version), {
        'stripe-rate-limited-reason': 'global-rate',
      });
    case 'lock_timeout':
      return withHeaders(errorResponse(lockTimeout(), requestId, version), { 'stripe-should-retry': 'true' });
    case 'server_error':
      return errorResponse(apiError(500), requestId, version);
    case 'unavailable':
      return errorResponse(apiError(503), requestId, version);
  }
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
