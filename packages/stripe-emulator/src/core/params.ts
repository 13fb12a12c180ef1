import qs from 'qs';
import { type ZodType, z } from 'zod';
import {
  parameterInvalid,
  parameterInvalidEmpty,
  parameterInvalidInteger,
  parameterMissing,
  parameterUnknown,
  type StripeError,
} from './errors.ts';

/**
 * Request parameters arrive form-encoded with Stripe's bracket nesting (`items[0][price]=…`), every value
 * a string. Schemas here turn them into typed values and turn zod's issues into the error codes Stripe
 * returns, so a client sees `parameter_unknown` for `items[0][prise]`, not a validation dump.
 */
export function parseFormEncoded(text: string): Record<string, unknown> {
  return qs.parse(text, { depth: 20, arrayLimit: 1000, parameterLimit: 10_000, allowDots: false }) as Record<
    string,
    unknown
  >;
}

/** `items[0][price]`, Stripe's way of naming a nested parameter. */
export function paramName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return `${head ?? ''}${rest.map((segment) => `[${segment}]`).join('')}`;
}

type IssueCode = 'parameter_invalid_integer' | 'parameter_invalid_empty' | 'parameter_invalid';

function fail<T>(ctx: z.core.$RefinementCtx<T>, code: IssueCode, message: string) {
  ctx.addIssue({ code: 'custom', message, params: { code } });
  return z.NEVER;
}

export function int(bounds: { min?: number; max?: number } = {}) {
  return z.string().transform((value, ctx) => {
    if (!/^-?\d+$/.test(value)) return fail(ctx, 'parameter_invalid_integer', value);
    const n = Number(value);
    if (bounds.min !== undefined && n < bounds.min)
      return fail(ctx, 'parameter_invalid', `This value must be greater than or equal to ${bounds.min}.`);
    if (bounds.max !== undefined && n > bounds.max)
      return fail(ctx, 'parameter_invalid', `This value must be less than or equal to ${bounds.max}.`);
    return n;
  });
}

export function decimalString() {
  return z.string().transform((value, ctx) => {
    if (!/^-?\d+(\.\d{1,12})?$/.test(value))
      return fail(ctx, 'parameter_invalid', `Invalid decimal: ${value}`);
    return value;
  });
}

export function bool() {
  return z.string().transform((value, ctx) => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    return fail(ctx, 'parameter_invalid', `Invalid boolean: ${value}`);
  });
}

/** A required, non-empty string. */
export function str() {
  return z.string().transform((value, ctx) => {
    if (value === '') return fail(ctx, 'parameter_invalid_empty', '');
    return value;
  });
}

/** An optional string that the empty string unsets (Stripe's `description=` → `null`). */
export function emptyable<T extends ZodType>(schema: T) {
  return z.union([z.literal('').transform(() => null), schema]);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.string().transform((value, ctx) => {
    if (!values.includes(value))
      return fail(ctx, 'parameter_invalid', `must be one of ${values.join(', ')}`) as T[number];
    return value as T[number];
  });
}

/** Arrays arrive as arrays (`a[0]=…`), or as objects keyed by index when qs gives up on sparse input. */
export function list<T extends ZodType>(item: T) {
  return z.preprocess(
    (value) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.values(value) : value),
    z.array(item),
  );
}

const METADATA_KEY_MAX = 40;
const METADATA_VALUE_MAX = 500;
const METADATA_KEYS_MAX = 50;

/** `metadata[k]=v` sets, `metadata[k]=` removes a key, `metadata=` clears them all (→ null). */
export function metadata() {
  return z.union([
    z.literal('').transform(() => null),
    z.record(z.string(), z.string()).transform((value, ctx) => {
      const keys = Object.keys(value);
      if (keys.length > METADATA_KEYS_MAX)
        return fail(ctx, 'parameter_invalid', `You can specify up to ${METADATA_KEYS_MAX} metadata keys.`);
      for (const key of keys) {
        if (key.length > METADATA_KEY_MAX)
          return fail(ctx, 'parameter_invalid', `Metadata keys can be up to ${METADATA_KEY_MAX} characters.`);
        if ((value[key] ?? '').length > METADATA_VALUE_MAX)
          return fail(
            ctx,
            'parameter_invalid',
            `Metadata values can be up to ${METADATA_VALUE_MAX} characters.`,
          );
      }
      return value;
    }),
  ]);
}

/** Applies a metadata update to the stored metadata, Stripe's way. */
export function mergeMetadata(
  current: Record<string, string>,
  update: Record<string, string> | null | undefined,
): Record<string, string> {
  if (update === undefined) return current;
  if (update === null) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

export function toStripeError(error: z.ZodError): StripeError {
  const issue = error.issues[0];
  if (!issue) return parameterInvalid('', 'Invalid request.');
  if (issue.code === 'unrecognized_keys')
    return parameterUnknown(paramName([...issue.path, issue.keys[0] ?? '']));
  const param = paramName(issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) return parameterMissing(param);
  if (issue.code === 'custom') {
    const code = (issue.params as { code?: IssueCode } | undefined)?.code;
    if (code === 'parameter_invalid_integer') return parameterInvalidInteger(param, issue.message);
    if (code === 'parameter_invalid_empty') return parameterInvalidEmpty(param);
    return parameterInvalid(
      param,
      issue.message.startsWith('must be') ? `Invalid ${param}: ${issue.message}` : issue.message,
    );
  }
  if (issue.code === 'invalid_union') {
    const nested = mostSpecific(issue.errors.flat());
    if (nested) return toStripeError(new z.ZodError([{ ...nested, path: [...issue.path, ...nested.path] }]));
  }
  if (issue.code === 'invalid_type')
    return parameterInvalid(param, `Invalid ${issue.expected === 'object' ? 'hash' : issue.expected}`);
  return parameterInvalid(param, `Invalid value for ${param}.`);
}

/**
 * The issue that explains a failed union best. `emptyable(x)` and `metadata()` are unions whose first
 * branch is the literal `''`, which every real value fails; its "invalid value" would hide the
 * branch that says what is wrong (`shipping[name]` missing, metadata over its limits).
 */
function mostSpecific(issues: z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  const rank = (issue: z.core.$ZodIssue) =>
    issue.code === 'custom' || issue.code === 'unrecognized_keys'
      ? 3
      : issue.path.length > 0
        ? 2
        : issue.code === 'invalid_value'
          ? 0
          : 1;
  return issues.reduce<z.core.$ZodIssue | undefined>(
    (best, issue) => (best === undefined || rank(issue) > rank(best) ? issue : best),
    undefined,
  );
}

/** Validates raw parameters against a strict schema, throwing Stripe's error for the first problem. */
export function validate<T extends ZodType>(schema: T, raw: unknown): z.output<T> {
  const result = schema.safeParse(raw);
  if (!result.success) throw toStripeError(result.error);
  return result.data;
}
