/**
 * The decision every framework's gate shares: find the account, read the quantity, ask the checker,
 * and turn a refusal into a status and a body. The adapters (hono.ts, express.ts, next.ts) only read
 * the request and write the answer.
 */
import type { CheckResult } from '../access/check.ts';
import type { AccessChecker } from '../access/contract.ts';
import { type GateCode, type Refusal, refusalOf } from './refusal.ts';

/** A gate only asks `check`; any `AccessChecker` will do. */
export type FeatureChecker = Pick<AccessChecker, 'check'>;

type MaybePromise<T> = T | Promise<T>;

/** `Args` are what the framework hands a handler: `[Context]` for Hono, `[req, res]` for Express… */
export type GateOptions<Args extends unknown[]> = {
  /** The account the request is for; null, undefined or blank refuses with 401 `account_required`. */
  accountId: (...args: Args) => MaybePromise<string | null | undefined>;
  /** Uses the request adds (metered features); default 1. Must be a positive integer. */
  quantity?: number | ((...args: Args) => MaybePromise<number>);
  /** Called with the checker's error before the gate answers 503 `access_unavailable`; for logging. */
  onError?: (error: unknown) => void;
};

export type GateVerdict = { allowed: true; access: CheckResult } | { allowed: false; refusal: Refusal };

const isQuantity = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * A gate for one feature. A misconfigured gate throws here, when the app starts, rather than on the
 * first request. Errors of the app's own resolvers are not caught: they belong to its error handler.
 */
export function featureGate<Args extends unknown[]>(
  checker: FeatureChecker,
  featureId: string,
  options: GateOptions<Args>,
): (...args: Args) => Promise<GateVerdict> {
  assertConfigured(checker, featureId, options);
  const refuse = (refused: CheckResult | GateCode): GateVerdict => ({
    allowed: false,
    refusal: refusalOf(featureId, refused),
  });
  return async function decide(...args: Args): Promise<GateVerdict> {
    const accountId = await options.accountId(...args);
    if (typeof accountId !== 'string' || accountId.trim() === '') return refuse('account_required');
    const { quantity: given } = options;
    // A fixed quantity was checked when the gate was built; a computed one comes from the request.
    const quantity = typeof given === 'function' ? await given(...args) : given;
    if (typeof given === 'function' && !isQuantity(quantity)) return refuse('invalid_quantity');
    let result: CheckResult;
    try {
      result = await checker.check(accountId, featureId, { quantity });
    } catch (error) {
      // A database outage must not reach the client as a 500 with a stack trace; the app logs it.
      options.onError?.(error);
      return refuse('access_unavailable');
    }
    return result.allowed ? { allowed: true, access: result } : refuse(result);
  };
}

function assertConfigured<Args extends unknown[]>(
  checker: FeatureChecker,
  featureId: string,
  options: GateOptions<Args>,
): void {
  if (typeof checker?.check !== 'function')
    throw new TypeError('feature gate: checker.check must be a function');
  if (typeof featureId !== 'string' || featureId === '')
    throw new TypeError('feature gate: the feature id must be a non-empty string');
  if (typeof options?.accountId !== 'function')
    throw new TypeError(`feature gate "${featureId}": options.accountId must be a function`);
  const { quantity } = options;
  if (quantity !== undefined && typeof quantity !== 'function' && !isQuantity(quantity))
    throw new RangeError(`feature gate "${featureId}": quantity must be a positive integer, got ${quantity}`);
}
