import type Stripe from 'stripe';
import { z } from 'zod';
import { parameterInvalid, parameterMissing } from '../core/errors.ts';
import { bool, decimalString, int, list, metadata, oneOf, str } from '../core/params.ts';
import type { Wire } from '../core/wire.ts';

export type WirePrice = Wire<Stripe.Price>;
export type WireTier = Wire<Stripe.Price.Tier>;

/**
 * The parameters that describe what a price charges, shared by `POST /v1/prices` and a product's
 * `default_price_data`. Checks that involve several parameters live in `checkPriceTerms`.
 */
export const currencyParam = z.string().transform((value, ctx) => {
  const lower = value.toLowerCase();
  if (!/^[a-z]{3}$/.test(lower)) {
    ctx.addIssue({
      code: 'custom',
      message: `Invalid currency: ${lower}.`,
      params: { code: 'parameter_invalid' },
    });
    return z.NEVER;
  }
  return lower;
});

export const taxBehaviorParam = oneOf(['exclusive', 'inclusive', 'unspecified']);

const intervalParam = oneOf(['day', 'week', 'month', 'year']);

export const recurringParam = z.strictObject({
  interval: intervalParam,
  interval_count: int({ min: 1 }).optional(),
  meter: str().optional(),
  trial_period_days: int({ min: 0, max: 730 }).optional(),
  usage_type: oneOf(['licensed', 'metered']).optional(),
});

const tierParam = z.strictObject({
  up_to: z.union([z.literal('inf'), int({ min: 1 })]),
  flat_amount: int({ min: 0 }).optional(),
  flat_amount_decimal: decimalString().optional(),
  unit_amount: int({ min: 0 }).optional(),
  unit_amount_decimal: decimalString().optional(),
});

export const customUnitAmountParam = z.strictObject({
  enabled: bool(),
  maximum: int({ min: 0 }).optional(),
  minimum: int({ min: 0 }).optional(),
  preset: int({ min: 0 }).optional(),
});

export const priceTermsFields = {
  currency: currencyParam,
  unit_amount: int({ min: 0 }).optional(),
  unit_amount_decimal: decimalString().optional(),
  recurring: recurringParam.optional(),
  tax_behavior: taxBehaviorParam.optional(),
  metadata: metadata().optional(),
  custom_unit_amount: customUnitAmountParam.optional(),
};

export type PriceTerms = {
  currency: string;
  unit_amount?: number | undefined;
  unit_amount_decimal?: string | undefined;
  recurring?: z.output<typeof recurringParam> | undefined;
  tax_behavior?: 'exclusive' | 'inclusive' | 'unspecified' | undefined;
  metadata?: Record<string, string> | null | undefined;
  custom_unit_amount?: z.output<typeof customUnitAmountParam> | undefined;
  active?: boolean | undefined;
  billing_scheme?: 'per_unit' | 'tiered' | undefined;
  tiers?: z.output<typeof tiersParam> | undefined;
  tiers_mode?: 'graduated' | 'volume' | undefined;
  lookup_key?: string | undefined;
  nickname?: string | undefined;
  transform_quantity?: { divide_by: number; round: 'down' | 'up' } | undefined;
};

export const tiersParam = list(tierParam);

/** Stripe caps a billing period at three years, whatever the unit. */
const MAX_INTERVAL_COUNT: Record<string, number> = { day: 1095, week: 156, month: 36, year: 3 };

const exclusive = (a: string, b: string) =>
  parameterInvalid(b, `You may only specify one of these parameters: ${a}, ${b}.`);

/** The rules that span several parameters, with the errors Stripe gives for breaking them. */
export function checkPriceTerms(terms: PriceTerms, prefix = ''): void {
  const name = (param: string) => (prefix ? `${prefix}[${param}]` : param);
  if (terms.unit_amount !== undefined && terms.unit_amount_decimal !== undefined)
    throw exclusive(name('unit_amount'), name('unit_amount_decimal'));
  const recurring = terms.recurring;
  if (recurring) {
    const max = MAX_INTERVAL_COUNT[recurring.interval] ?? 1;
    if ((recurring.interval_count ?? 1) > max)
      throw parameterInvalid(
        name('recurring[interval_count]'),
        `The maximum billing period is three years (3 years, 36 months, 156 weeks or 1095 days).`,
      );
    if (recurring.usage_type === 'metered' && !recurring.meter)
      throw parameterMissing(name('recurring[meter]'));
    if (recurring.meter && recurring.usage_type !== 'metered')
      throw parameterInvalid(
        name('recurring[meter]'),
        'A meter can only be set on a price with `recurring[usage_type]=metered`.',
      );
  }
  if (terms.custom_unit_amount?.enabled) {
    if (recurring)
      throw parameterInvalid(
        name('custom_unit_amount'),
        'Custom unit amounts are only supported for one-time prices.',
      );
    if (terms.unit_amount !== undefined || terms.unit_amount_decimal !== undefined)
      throw exclusive(name('unit_amount'), name('custom_unit_amount'));
    return;
  }
  if (terms.billing_scheme === 'tiered') {
    checkTiers(terms, name);
    return;
  }
  if (terms.tiers !== undefined || terms.tiers_mode !== undefined)
    throw parameterInvalid(name('tiers'), 'Tiers can only be set when `billing_scheme=tiered`.');
  if (terms.unit_amount === undefined && terms.unit_amount_decimal === undefined)
    throw parameterMissing(name('unit_amount'));
}

function checkTiers(terms: PriceTerms, name: (param: string) => string): void {
  if (!terms.recurring)
    throw parameterInvalid(name('billing_scheme'), 'Tiered pricing is only supported for recurring prices.');
  if (terms.unit_amount !== undefined || terms.unit_amount_decimal !== undefined)
    throw parameterInvalid(
      name('unit_amount'),
      'You cannot set `unit_amount` on a price with `billing_scheme=tiered`.',
    );
  if (!terms.tiers_mode) throw parameterMissing(name('tiers_mode'));
  const tiers = terms.tiers ?? [];
  if (tiers.length === 0) throw parameterMissing(name('tiers'));
  tiers.forEach((tier, index) => {
    const param = name(`tiers[${index}]`);
    if (tier.unit_amount !== undefined && tier.unit_amount_decimal !== undefined)
      throw exclusive(`${param}[unit_amount]`, `${param}[unit_amount_decimal]`);
    if (tier.flat_amount !== undefined && tier.flat_amount_decimal !== undefined)
      throw exclusive(`${param}[flat_amount]`, `${param}[flat_amount_decimal]`);
    const last = index === tiers.length - 1;
    if (last !== (tier.up_to === 'inf'))
      throw parameterInvalid(`${param}[up_to]`, 'Only the last tier can have `up_to=inf`, and it must.');
    const previous = tiers[index - 1]?.up_to;
    if (typeof previous === 'number' && typeof tier.up_to === 'number' && tier.up_to <= previous)
      throw parameterInvalid(`${param}[up_to]`, 'Tiers must be sorted by `up_to` in increasing order.');
  });
}

/** Stripe echoes decimals without insignificant zeros: `"1.50"` comes back as `"1.5"`. */
export function normalizeDecimal(value: string): string {
  if (!value.includes('.')) return String(BigInt(value));
  const [whole = '0', fraction = ''] = value.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  const integer = String(BigInt(whole === '-' ? '-0' : whole));
  const sign = whole.startsWith('-') && !integer.startsWith('-') ? '-' : '';
  return trimmed ? `${sign}${integer}.${trimmed}` : `${sign}${integer}`;
}

/** `unit_amount` and `unit_amount_decimal` as Stripe reports them from whichever one was given. */
export function amountPair(
  amount: number | undefined,
  decimal: string | undefined,
): { amount: number | null; decimal: string | null } {
  if (amount !== undefined) return { amount, decimal: String(amount) };
  if (decimal === undefined) return { amount: null, decimal: null };
  const normalized = normalizeDecimal(decimal);
  return { amount: /^-?\d+$/.test(normalized) ? Number(normalized) : null, decimal: normalized };
}

export function toTiers(tiers: z.output<typeof tiersParam>): WireTier[] {
  return tiers.map((tier) => {
    const unit = amountPair(tier.unit_amount, tier.unit_amount_decimal);
    const flat = amountPair(tier.flat_amount, tier.flat_amount_decimal);
    return {
      flat_amount: flat.amount,
      flat_amount_decimal: flat.decimal,
      unit_amount: unit.amount,
      unit_amount_decimal: unit.decimal,
      up_to: tier.up_to === 'inf' ? null : tier.up_to,
    };
  });
}

/** The stored price for the given terms; `id`, `created` and `livemode` come from the caller. */
export function priceFromTerms(
  terms: PriceTerms,
  identity: { id: string; created: number; livemode: boolean; product: string },
): WirePrice {
  const unit = amountPair(terms.unit_amount, terms.unit_amount_decimal);
  const tiered = terms.billing_scheme === 'tiered';
  const custom = terms.custom_unit_amount?.enabled ? terms.custom_unit_amount : undefined;
  return {
    id: identity.id,
    object: 'price',
    active: terms.active ?? true,
    billing_scheme: tiered ? 'tiered' : 'per_unit',
    created: identity.created,
    currency: terms.currency,
    custom_unit_amount: custom
      ? { maximum: custom.maximum ?? null, minimum: custom.minimum ?? null, preset: custom.preset ?? null }
      : null,
    livemode: identity.livemode,
    lookup_key: terms.lookup_key ?? null,
    metadata: terms.metadata ?? {},
    nickname: terms.nickname ?? null,
    product: identity.product,
    recurring: terms.recurring
      ? {
          interval: terms.recurring.interval,
          interval_count: terms.recurring.interval_count ?? 1,
          meter: terms.recurring.meter ?? null,
          trial_period_days: terms.recurring.trial_period_days ?? null,
          usage_type: terms.recurring.usage_type ?? 'licensed',
        }
      : null,
    tax_behavior: terms.tax_behavior ?? 'unspecified',
    tiers_mode: tiered ? (terms.tiers_mode ?? null) : null,
    transform_quantity: terms.transform_quantity ?? null,
    type: terms.recurring ? 'recurring' : 'one_time',
    unit_amount: tiered || custom ? null : unit.amount,
    unit_amount_decimal: tiered || custom ? null : unit.decimal,
  };
}
