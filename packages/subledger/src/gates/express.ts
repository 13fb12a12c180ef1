/**
 * `requireFeature()` for Express 5: a middleware that lets a request through only when its account may
 * use the feature (the result is then `res.locals.access`), and otherwise answers the coded refusal of
 * `refusal.ts`. Express is imported for its types only, so apps without Express load nothing of it.
 *
 * ```ts
 * app.post('/reports', requireFeature(checker, 'reports', { accountId: (req, res) => res.locals.teamId }),
 *   (req, res) => { res.json({ plan: res.locals.access?.plan }); });
 * ```
 */
import type { NextFunction, Request, Response } from 'express';
import type { CheckResult } from '../access/check.ts';
import { type FeatureChecker, featureGate, type GateOptions } from './gate.ts';

export type { FeatureChecker } from './gate.ts';
export { type Refusal, type RefusalBody, type RefusalCode, refusalOf } from './refusal.ts';

declare global {
  namespace Express {
    interface Locals {
      /** Set by `requireFeature()` on the requests it lets through. */
      access?: CheckResult;
    }
  }
}

/** The resolvers get `res` too: auth middleware usually leaves the user in `res.locals`. */
export type ExpressGateOptions<P = Request['params']> = GateOptions<[Request<P>, Response]>;

/**
 * `P` types `req.params` for the resolvers (`requireFeature<{ teamId: string }>(…)`); Express 5's own
 * default is `string | string[]` per parameter, which is not an account id.
 */
export function requireFeature<P = Request['params']>(
  checker: FeatureChecker,
  featureId: string,
  options: ExpressGateOptions<P>,
): (req: Request<P>, res: Response, next: NextFunction) => Promise<void> {
  const decide = featureGate(checker, featureId, options);
  // Express 5 passes a rejected promise to `next(error)`, so a resolver's error reaches the app's handler.
  return async function requireFeatureMiddleware(req, res, next) {
    const verdict = await decide(req, res);
    if (!verdict.allowed) {
      res.status(verdict.refusal.status).json(verdict.refusal.body);
      return;
    }
    res.locals.access = verdict.access;
    next();
  };
}
