import { type RouteConfig, z } from '@hono/zod-openapi';
import { type Billing, requireBilling } from '../../billing/index.ts';
import { errorSchema } from '../problems.ts';

/** A JSON body or answer of this schema, as OpenAPI describes one. */
export const json = <T>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const problemOf = (description: string) => json(errorSchema, description);

/**
 * The refusals every authenticated route may answer with, beside its own: bad input, no or a bad
 * credential, a credential that may not do this, too many requests.
 */
export const COMMON_PROBLEMS = {
  400: problemOf('invalid input: `invalid_request` with `param`, `invalid_json`, `invalid_<path parameter>`'),
  401: problemOf('no credential, or one that is not valid here'),
  403: problemOf("the credential's scope or account does not cover this request"),
  429: problemOf('too many requests for this credential; see `Retry-After`'),
} satisfies RouteConfig['responses'];

/** The security requirement of every `/v1` route: an API key, or (for reads) an end user's JWT. */
export const SECURED: Record<string, string[]>[] = [{ apiKey: [] }, { endUserToken: [] }];
/** Routes an end user's token may not call: writes and administration. */
export const KEYS_ONLY: Record<string, string[]>[] = [{ apiKey: [] }];

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);

export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description: 'a retried request with the same key never acts twice; default: derived from the request',
  }),
});

/** The billing actions, or 503 `stripe_not_configured` when no Stripe key is configured. */
export const ready = (deps: { billing: Billing | null }): Billing => requireBilling(deps.billing);
