import type { Scope } from '../core/scope.ts';
import { insertProduct, priceTable, type WirePrice } from './catalog-store.ts';
import { priceFromTerms } from './price-data.ts';

export type AdHocTerms = { unitAmountDecimal: string; currency: string; description: string | null };

/** Which ad-hoc price already stands for a set of terms; keyed by `adHocKey`. */
type AdHocEntry = { id: string; price: string };
const adHocTable = (scope: Scope) => scope.partition.table<AdHocEntry>('ad_hoc_price');
const adHocKey = (terms: AdHocTerms) =>
  JSON.stringify([terms.currency, terms.unitAmountDecimal, terms.description]);

/**
 * The price an invoice item made from a bare `amount` bills at. Stripe gives such an item an inactive
 * one-time price on an inactive product, both created without events, and names them in
 * `pricing.price_details`. It reuses one for the same terms: recorded pay-rails responses show items
 * of 1000 usd "One-time setup fee" made in 2024, 2025 and 2026 all naming `price_1PmHof…` (created
 * 2024-08). Matching on currency, unit amount and description is our reading of that reuse.
 */
export function createAdHocPrice(scope: Scope, terms: AdHocTerms): WirePrice {
  const key = adHocKey(terms);
  const known = adHocTable(scope).get(key);
  const existing = known && priceTable(scope).get(known.price);
  if (existing) return existing;
  const product = insertProduct(scope, { name: terms.description ?? '', active: false });
  const price = priceFromTerms(
    { currency: terms.currency, unit_amount_decimal: terms.unitAmountDecimal, active: false },
    {
      id: scope.emulator.random.id('price', 24),
      created: scope.emulator.clock.nowSeconds(),
      livemode: scope.partition.livemode,
      product: product.id,
    },
  );
  priceTable(scope).insert(price);
  adHocTable(scope).replace({ id: key, price: price.id });
  return price;
}
