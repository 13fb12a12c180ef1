import type { Context, MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import {
  type Authenticator,
  type AuthResult,
  AuthUnavailableError,
  allows,
  mayAccess,
  type Principal,
  type RateLimiter,
  type Scope,
} from '../auth/index.ts';
import { problem, refusal } from './problems.ts';

export type ApiEnv = { Variables: RequestIdVariables & { principal: Principal } };

/** Who may call what: authentication, the per-credential rate limit, scopes, and account boundaries. */
export type Guard = {
  /** Middleware of a route: authenticates, counts the request against the limit, checks the scope. */
  require(scope: Scope): MiddlewareHandler<ApiEnv>;
  /** Throws a 403 when the request's credential may not see this account (an end user's token). */
  authorizeAccount(c: Context<ApiEnv>, accountId: string): void;
};

export function createGuard(options: { authenticator: Authenticator; rateLimiter: RateLimiter }): Guard {
  const { authenticator, rateLimiter } = options;
  return {
    require: (scope) =>
      async function guard(c, next) {
        const result = await authenticateOrUnavailable(authenticator, c.req.header('authorization') ?? null);
        if (result === 'unavailable')
          return problem(c, 503, 'auth_unavailable', 'credentials cannot be checked right now; try again');
        if (!result.ok) {
          c.header('WWW-Authenticate', 'Bearer');
          return problem(c, result.status, result.code, result.message);
        }
        const taken = await rateLimiter.take(result.principal);
        if (!taken.ok) {
          c.header('Retry-After', String(taken.retryAfterSeconds));
          return problem(c, 429, 'rate_limited', 'too many requests for this credential; slow down');
        }
        if (!allows(result.principal, scope))
          return problem(
            c,
            403,
            'insufficient_scope',
            `this request needs a credential with the ${scope} scope`,
          );
        c.set('principal', result.principal);
        await next();
      },
    authorizeAccount(c, accountId) {
      if (!mayAccess(c.get('principal'), accountId))
        throw refusal(403, 'account_forbidden', 'this credential may not see that account');
    },
  };
}

async function authenticateOrUnavailable(
  authenticator: Authenticator,
  header: string | null,
): Promise<AuthResult | 'unavailable'> {
  try {
    return await authenticator.authenticate(header);
  } catch (error) {
    if (error instanceof AuthUnavailableError) return 'unavailable';
    throw error;
  }
}
