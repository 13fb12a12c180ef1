import { compareShape, type Difference, describe, formatPath, type Path } from './compare-shape.ts';
import type { SdkTypes, TypeRef } from './sdk-types.ts';

/**
 * Turns raw shape differences into verdicts, with the SDK's declarations as the tie-breaker between
 * the reference (fixture at 2026-08, or a recording at 2025-10/2026-03) and the emulator (typed as
 * SDK v23, API 2026-10-28):
 * - a key the reference has and the SDK does not declare is `reference-only` (the field is not in the
 *   API version the emulator speaks);
 * - a key only the emulator has that the SDK declares is `sdk-only` (newer than the reference);
 * - everything else (a missing or invented key the SDK agrees on, a JSON type mismatch) is a `failure`,
 *   unless an explicit allowance names it.
 */

export type Status = 'failure' | 'reference-only' | 'sdk-only' | 'allowed';

export type Finding = { difference: Difference; status: Status; note: string };

/**
 * A difference that is not a bug, with the evidence: `object` names the compared thing (`customer`,
 * `POST /v1/payment_intents`, or `*`), `path` the difference (`tax`, or a pattern over the path as
 * printed, e.g. `/payment_method_options\.\w+$/`).
 */
export type Allowance = { object: string; path: string | RegExp; reason: string };

const allows = (allowance: Allowance, object: string, path: string) =>
  (allowance.object === '*' || allowance.object === object) &&
  (typeof allowance.path === 'string' ? allowance.path === path : allowance.path.test(path));

export type JudgeOptions = {
  sdk: SdkTypes;
  /** The SDK type of the compared value. */
  root: TypeRef;
  /** For allowances and reports: `customer`, `list`, `POST /v1/customers` … */
  object: string;
  expanded?: readonly string[];
  isOpaque?: (path: Path) => boolean;
  allowances?: readonly Allowance[];
};

export function judge(reference: unknown, actual: unknown, options: JudgeOptions): Finding[] {
  const { sdk, root } = options;
  const differences = compareShape(reference, actual, {
    isMap: (path) => sdk.isMap(root, path),
    ...(options.isOpaque ? { isOpaque: options.isOpaque } : {}),
    expanded: options.expanded ?? [],
  });
  return differences.map((difference) => verdict(difference, options));
}

function verdict(difference: Difference, options: JudgeOptions): Finding {
  const path = formatPath(difference.path);
  const allowance = options.allowances?.find((a) => allows(a, options.object, path));
  if (allowance) return { difference, status: 'allowed', note: describe(difference) };
  if (difference.kind === 'type') return { difference, status: 'failure', note: describe(difference) };
  const key = difference.path.at(-1) ?? '';
  const declared = options.sdk.declares(options.root, difference.path.slice(0, -1), key);
  if (difference.kind === 'missing' && declared === false)
    return { difference, status: 'reference-only', note: describe(difference) };
  if (difference.kind === 'invented' && declared === true)
    return { difference, status: 'sdk-only', note: describe(difference) };
  return { difference, status: 'failure', note: describe(difference) };
}

export const failures = (findings: readonly Finding[]) => findings.filter((f) => f.status === 'failure');

export function notes(findings: readonly Finding[], status: Status): string[] {
  return findings.filter((f) => f.status === status).map((f) => f.note);
}
