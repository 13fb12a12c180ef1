/**
 * `withFeature()` for Next.js App Router route handlers, which are web-standard `(Request, context)`
 * functions: nothing of Next is imported, so the same wrapper fits any fetch-style server.
 *
 * ```ts
 * type RouteContext = { params: Promise<{ teamId: string }> };
 * export const POST = withFeature(checker, 'reports',
 *   { accountId: async (request, { params }: RouteContext) => (await params).teamId },
 *   async (request, context, access) => Response.json({ plan: access.plan }));
 * ```
 */
import type { CheckResult } from '../access/check.ts';
import { type FeatureChecker, featureGate, type GateOptions } from './gate.ts';

export type { FeatureChecker } from './gate.ts';
export { type Refusal, type RefusalBody, type RefusalCode, refusalOf, refusalResponse } from './refusal.ts';

export type NextGateOptions<Ctx> = GateOptions<[Request, Ctx]>;

/** The route handler a gate wraps: it gets the allowed check's result as a third argument. */
export type GatedHandler<Ctx> = (
  request: Request,
  context: Ctx,
  access: CheckResult,
) => Response | Promise<Response>;

export function withFeature<Ctx = unknown>(
  checker: FeatureChecker,
  featureId: string,
  options: NextGateOptions<Ctx>,
  handler: GatedHandler<Ctx>,
): (request: Request, context: Ctx) => Promise<Response> {
  if (typeof handler !== 'function')
    throw new TypeError(`withFeature "${featureId}": handler must be a function`);
  const decide = featureGate(checker, featureId, options);
  return async function gatedRouteHandler(request, context) {
    const verdict = await decide(request, context);
    if (!verdict.allowed) return Response.json(verdict.refusal.body, { status: verdict.refusal.status });
    return handler(request, context, verdict.access);
  };
}
