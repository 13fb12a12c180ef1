import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared Stripe reference data (see its README): fixtures, recordings, events. */
export const REFERENCE_DIR = fileURLToPath(
  new URL('../../../../../shared/stripe-reference/', import.meta.url),
);

export function requireReferenceData(): void {
  if (!existsSync(REFERENCE_DIR))
    throw new Error(`The Stripe reference data is missing: expected it at ${REFERENCE_DIR}`);
}

let fixtures: Record<string, unknown> | undefined;

/** Stripe's example object for a resource, keyed as in fixtures3.json (`checkout.session`, `item` …). */
export function fixture(object: string): unknown {
  fixtures ??= (
    JSON.parse(readFileSync(`${REFERENCE_DIR}openapi/fixtures3.json`, 'utf8')) as {
      resources: Record<string, unknown>;
    }
  ).resources;
  return fixtures[object];
}

/**
 * fixtures3.json has no list envelopes. The list one is a real response (pay-rails recording of
 * `GET /v1/invoice_payments`, API 2025-10-29); the search one is Stripe's documented search result
 * (https://docs.stripe.com/api/pagination/search), which is also the SDK's `ApiSearchResult`.
 */
export function envelope(object: 'list' | 'search_result'): unknown {
  if (object === 'search_result')
    return {
      object: 'search_result',
      data: [],
      has_more: false,
      next_page: null,
      url: '/v1/customers/search',
    };
  const recorded = JSON.parse(
    readFileSync(
      `${REFERENCE_DIR}recorded/pay-rails/test_stripe_can_create_a_subscription/06-GET-v1_invoice_payments.json`,
      'utf8',
    ),
  ) as { body: Record<string, unknown> };
  return { ...recorded.body, data: [] };
}

export function referenceFor(object: string): unknown {
  return object === 'list' || object === 'search_result' ? envelope(object) : fixture(object);
}
