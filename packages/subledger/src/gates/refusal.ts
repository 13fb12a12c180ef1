/**
 * What a feature gate answers when it refuses a request: a status and a coded JSON body, the same for
 * every framework. Pure; the framework adapters only write it out.
 *
 * Terminology: a gate guards one feature; a refusal is its answer when the request may not go through.
 */
import type { CheckCode, CheckResult } from '../access/check.ts';
import type { AccessState } from '../access/state.ts';

/** Refusals the gate gives itself, when the checker could not be asked or could not answer. */
export type GateCode = 'account_required' | 'invalid_quantity' | 'access_unavailable';

export type RefusalCode = Exclude<CheckCode, 'allowed'> | GateCode;

export type RefusalStatus = 400 | 401 | 402 | 403 | 503;

/** snake_case like Stripe's API; every key is always present so clients can read it without guards. */
export type RefusalBody = {
  error: {
    code: RefusalCode;
    message: string;
    feature: string;
    state: AccessState | null;
    plan: string | null;
    limit: number | null;
    used: number | null;
    remaining: number | null;
    /** Unix seconds, like Stripe's timestamps. */
    resets_at: number | null;
  };
};

export type Refusal = { status: RefusalStatus; body: RefusalBody };

export const REFUSAL_STATUS: Readonly<Record<RefusalCode, RefusalStatus>> = {
  // 402: paying would let the request through (subscribe, pay, resume, or buy a bigger allowance).
  subscription_required: 402,
  subscription_incomplete: 402,
  payment_required: 402,
  subscription_paused: 402,
  limit_reached: 402,
  insufficient_credits: 402,
  // 403: not a payment matter; the plan does not have it, or the app asked for a feature that is not one.
  feature_not_in_plan: 403,
  feature_unknown: 403,
  account_required: 401,
  invalid_quantity: 400,
  access_unavailable: 503,
};

type Message = (feature: string, result: CheckResult | null) => string;

const MESSAGES: Readonly<Record<RefusalCode, Message>> = {
  subscription_required: (feature) => `"${feature}" needs a subscription, and this account has none.`,
  subscription_incomplete: (feature) =>
    `"${feature}" is unavailable until the first payment of this account's subscription goes through.`,
  payment_required: (feature) =>
    `"${feature}" is unavailable until the overdue payment of this account's subscription is made.`,
  subscription_paused: (feature) =>
    `"${feature}" is unavailable while this account's subscription is paused.`,
  limit_reached: limitMessage,
  insufficient_credits: (feature, result) =>
    `Not enough "${feature}" credits: ${result?.remaining ?? 0} left. Top up or wait for the next grant.`,
  feature_not_in_plan: (feature, result) =>
    result?.plan
      ? `The ${result.plan} plan does not include "${feature}".`
      : `This account's plan does not include "${feature}".`,
  feature_unknown: (feature) => `"${feature}" is not a feature of this service.`,
  account_required: () => 'The request does not say which account it is for; sign in and try again.',
  invalid_quantity: (feature) => `The quantity of "${feature}" asked for must be a positive whole number.`,
  access_unavailable: () => 'Access could not be checked just now; try again in a moment.',
};

function limitMessage(feature: string, result: CheckResult | null): string {
  if (result?.limit == null || result.used == null) return `The limit of "${feature}" has been reached.`;
  const reset =
    result.resetsAt == null ? '' : `; it resets at ${new Date(result.resetsAt * 1000).toISOString()}`;
  const left = result.remaining ?? Math.max(0, result.limit - result.used);
  return `"${feature}" is limited to ${result.limit} per period: ${result.used} used, ${left} left${reset}.`;
}

/** The status and body for a refused check, or for a refusal of the gate's own. */
export function refusalOf(feature: string, refused: CheckResult | GateCode): Refusal {
  const result = typeof refused === 'string' ? null : refused;
  const code = typeof refused === 'string' ? refused : refused.code;
  // A gate asking for the refusal of an allowed result is a bug in the gate, not a request to answer.
  if (code === 'allowed') throw new Error(`refusalOf: "${feature}" was allowed, there is nothing to refuse`);
  const body: RefusalBody = {
    error: {
      code,
      message: MESSAGES[code](feature, result),
      feature,
      state: result?.state ?? null,
      plan: result?.plan ?? null,
      limit: result?.limit ?? null,
      used: result?.used ?? null,
      remaining: result?.remaining ?? null,
      resets_at: result?.resetsAt ?? null,
    },
  };
  return { status: REFUSAL_STATUS[code], body };
}

/** The refusal as a web-standard `Response` (Next.js route handlers, Hono, any fetch-style server). */
export function refusalResponse(feature: string, refused: CheckResult | GateCode): Response {
  const { status, body } = refusalOf(feature, refused);
  return Response.json(body, { status });
}
