/**
 * `requireFeature()` for Hono: a middleware that lets a request through only when its account may use
 * the feature, and otherwise answers the coded refusal of `refusal.ts`.
 *
 * ```ts
 * // The type parameter is the app's Env, for resolvers that read the app's own variables.
 * const reports = requireFeature<AppEnv>(checker, 'reports', { accountId: (c) => c.get('user')?.teamId });
 * app.post('/reports', reports, (c) => c.json({ plan: c.get('access').plan }));
 * ```
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import type { CheckResult } from '../access/check.ts';
import { type FeatureChecker, featureGate, type GateOptions } from './gate.ts';

export type { FeatureChecker } from './gate.ts';
export { type Refusal, type RefusalBody, type RefusalCode, refusalOf, refusalResponse } from './refusal.ts';

/** What the gate adds to the context: `c.get('access')` is the allowed check's result. */
export type AccessEnv = { Variables: { access: CheckResult } };

export type HonoGateOptions<E extends Env = Env, P extends string = string> = GateOptions<
  [Context<E & AccessEnv, P>]
>;

export function requireFeature<E extends Env = Env, P extends string = string>(
  checker: FeatureChecker,
  featureId: string,
  options: HonoGateOptions<E, P>,
): MiddlewareHandler<E & AccessEnv, P> {
  const decide = featureGate(checker, featureId, options);
  return async function requireFeatureMiddleware(c, next) {
    const verdict = await decide(c);
    if (!verdict.allowed) return c.json(verdict.refusal.body, verdict.refusal.status);
    c.set('access', verdict.access);
    await next();
  };
}
