/**
 * What a price charges for a quantity, in the currency's smallest unit: per-unit prices (with
 * `transform_quantity`), and tiered prices in `volume` mode (every unit at the tier the total falls
 * in) or `graduated` mode (each unit at the tier it falls in). Decimal unit amounts are summed
 * exactly in thousandths of a minor unit and rounded once, at the end, as Stripe rounds line amounts.
 */
export type PriceTerms = {
  /** `per_unit` or `tiered` (typed loosely: the SDK's open string unions do not survive `Wire`). */
  billing_scheme: unknown;
  unit_amount_decimal: string | null;
  /** `volume` or `graduated` for tiered prices. */
  tiers_mode: unknown;
  transform_quantity: { divide_by: number; round: unknown } | null;
};

export type Tier = {
  up_to: number | null;
  unit_amount_decimal: string | null;
  flat_amount_decimal: string | null;
};

/** Billed units after `transform_quantity` (e.g. packs of 10, rounded up). */
export function billedUnits(terms: PriceTerms, quantity: number): number {
  const transform = terms.transform_quantity;
  if (!transform) return quantity;
  const packs = quantity / transform.divide_by;
  return transform.round === 'up' ? Math.ceil(packs) : Math.floor(packs);
}

const decimal = (value: string | null) => (value === null ? 0 : Number(value));

export function amountFor(terms: PriceTerms, tiers: readonly Tier[], quantity: number): number {
  if (terms.billing_scheme !== 'tiered') {
    return Math.round(decimal(terms.unit_amount_decimal) * billedUnits(terms, quantity));
  }
  if (quantity <= 0 || tiers.length === 0) return 0;
  if (terms.tiers_mode === 'volume') {
    const tier = tiers.find((t) => t.up_to === null || quantity <= t.up_to) ?? tiers[tiers.length - 1];
    if (!tier) return 0;
    return Math.round(decimal(tier.unit_amount_decimal) * quantity + decimal(tier.flat_amount_decimal));
  }
  let total = 0;
  let below = 0;
  for (const tier of tiers) {
    if (below >= quantity) break;
    const top = tier.up_to === null ? quantity : Math.min(tier.up_to, quantity);
    total += decimal(tier.unit_amount_decimal) * (top - below) + decimal(tier.flat_amount_decimal);
    below = top;
  }
  return Math.round(total);
}

/** The unit amount a line reports: the price's own for per-unit prices, the average for tiers. */
export function unitAmountDecimal(terms: PriceTerms, amount: number, quantity: number): string | null {
  if (terms.billing_scheme !== 'tiered') return terms.unit_amount_decimal;
  if (quantity === 0) return '0';
  return String(Number((amount / quantity).toFixed(12)));
}
