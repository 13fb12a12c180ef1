import { z } from 'zod';
import { FEATURE_TYPES, PERIODS, type Period } from './types.ts';

/** One problem in a catalog: where (`plans.pro.prices[0].currency`) and what. */
export type CatalogIssue = { path: string; message: string };

/** Feature and plan ids become Stripe lookup keys and metadata values, and names in code: keep them plain. */
const ID = /^[a-z][a-z0-9_]{0,63}$/;
const ID_RULE = 'must be a lowercase identifier (a-z, 0-9, _; starting with a letter; at most 64 characters)';
/** Stripe accepts up to 200 characters in a price's lookup key; spaces only invite mistakes. */
const LOOKUP_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;
/** Stripe's limit on an entitlement feature's name. */
const MAX_FEATURE_NAME = 80;
/** Stripe allows trials of up to two years. */
export const MAX_TRIAL_DAYS = 730;
/** Stripe bills at most every three years. */
const MAX_INTERVAL_COUNT: Record<Period, number> = { day: 1095, week: 156, month: 36, year: 3 };
const EVERY: Record<Period, string> = { day: 'daily', week: 'weekly', month: 'monthly', year: 'yearly' };

const name = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const positiveInt = z.int().positive('must be greater than 0');
const period = z.enum(PERIODS);

const featureSchema = z.strictObject({
  type: z.enum(FEATURE_TYPES),
  name: name(MAX_FEATURE_NAME),
  period: period.optional(),
});

/**
 * What a plan gives of a feature; which of `limit` and `grant` it needs depends on the feature's type,
 * checked once the features are known. `true` (a boolean feature) reads as the empty grant.
 */
const planFeatureSchema = z.preprocess(
  (value) => (value === true ? {} : value),
  z.strictObject(
    {
      limit: z.union([positiveInt, z.literal('unlimited')]).optional(),
      grant: positiveInt.optional(),
      rollover: z.strictObject({ cap: positiveInt }).optional(),
    },
    {
      error: (issue) => (issue.code === 'invalid_type' ? 'must be true, { limit }, or { grant }' : undefined),
    },
  ),
);

const priceSchema = z
  .strictObject({
    lookupKey: z.string().regex(LOOKUP_KEY, 'must be 1 to 200 letters, digits or _ . : -'),
    unitAmount: z.int().nonnegative('must be 0 or more (in the smallest currency unit)'),
    currency: z.string().regex(/^[a-z]{3}$/, 'must be three lowercase letters (usd)'),
    interval: period,
    intervalCount: positiveInt.default(1),
  })
  .check((context) => {
    const max = MAX_INTERVAL_COUNT[context.value.interval];
    if (context.value.intervalCount > max)
      context.issues.push({
        code: 'custom',
        path: ['intervalCount'],
        message: `must be at most ${max} for a ${EVERY[context.value.interval]} price (Stripe bills at least every 3 years)`,
        input: context.value.intervalCount,
      });
  });

const planSchema = z.strictObject({
  name: name(250),
  description: name(500).optional(),
  prices: z.array(priceSchema).default([]),
  trialDays: z
    .int()
    .min(0, 'must be 0 or more')
    .max(MAX_TRIAL_DAYS, `must be at most ${MAX_TRIAL_DAYS}`)
    .default(0),
  features: z.record(z.string().regex(ID, ID_RULE), planFeatureSchema).default({}),
});

export const catalogSchema = z.strictObject({
  features: z.record(z.string().regex(ID, ID_RULE), featureSchema),
  plans: z
    .record(z.string().regex(ID, ID_RULE), planSchema)
    .refine((plans) => Object.keys(plans).length > 0, 'declare at least one plan'),
});

export type ParsedCatalog = z.output<typeof catalogSchema>;
export type ParsedPlanFeature = z.output<typeof planFeatureSchema>;

/** Parses the shape; every problem zod finds, each with its path, in words an app developer reads. */
export function parseShape(
  input: unknown,
): { ok: true; value: ParsedCatalog } | { ok: false; issues: CatalogIssue[] } {
  const parsed = catalogSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({ path: pathOf(issue.path), message: wordsOf(issue) })),
  };
}

/** `['plans', 'pro', 'prices', 0, 'currency']` → `plans.pro.prices[0].currency`. */
export function pathOf(path: readonly PropertyKey[]): string {
  const text = path
    .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
    .join('')
    .replace(/^\./, '');
  return text || '(catalog)';
}

function wordsOf(issue: z.core.$ZodIssue): string {
  // The schema's own words are kept; zod's defaults ("Invalid input: expected …") are reworded.
  if (issue.message.startsWith('must ')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return issue.expected === 'int' ? 'must be a whole number' : `must be ${withArticle(issue.expected)}`;
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
    case 'invalid_value':
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'is not a valid key';
    // The one union in the schema is a metered feature's limit.
    case 'invalid_union':
      return 'must be a whole number greater than 0 or "unlimited"';
    default:
      return issue.message;
  }
}

const withArticle = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
