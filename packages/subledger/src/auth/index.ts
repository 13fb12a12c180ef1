/**
 * Authentication for the HTTP API.
 *
 * Terminology:
 * - API key: a credential for servers, `slk_<test|live>_<id>_<secret>`, made with `subledger keys create`.
 *   Its text is shown once; the database keeps its id, scope, environment and the SHA-256 of its secret.
 * - token: a JWT from the app's own identity provider, for browser-facing reads of one account (off
 *   unless `SUBLEDGER_JWT_JWKS_URL` is set).
 * - scope: what a credential may do: `read` < `write` < `admin`. A token is always `read`.
 * - principal: who a request comes from, once its credential is verified: a key or a token's subject.
 * - refusal: an `AuthFailure`, a status with a stable code; it never repeats the credential.
 *
 * The HTTP layer: `authenticate` the header, `take` from the rate limiter, then check the route's scope
 * (`allows`) and account (`mayAccess`).
 */
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthResult,
  createAuthenticator,
} from './authenticator.ts';
export type { AuthFailure } from './failures.ts';
export { AuthUnavailableError, type JwtOptions } from './jwt.ts';
export { type ApiKeyParts, formatApiKey, parseApiKey } from './key-format.ts';
export {
  ApiKeyError,
  type ApiKeyInfo,
  type CreatedApiKey,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from './keys.ts';
export { createRateLimiter, type RateLimiter } from './rate-limit.ts';
export { allows, isScope, mayAccess, type Principal, type Scope } from './scopes.ts';
