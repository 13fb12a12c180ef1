export {
  type Change,
  type ChangeKind,
  PLAN_METADATA_KEY,
  type StripeCatalog,
  type StripeFeature,
  type StripePrice,
  type StripeProduct,
  type StripeProductFeature,
} from './changes.ts';
export { CatalogError, defineCatalog, isCatalog, parseCatalog } from './define.ts';
export { demoCatalog } from './demo.ts';
export { describeChange, summarizeChanges } from './describe.ts';
export { loadCatalog } from './load.ts';
export { planById, planFeature, planFeatures, planOfPrice, plansOf, priceByLookupKey } from './lookups.ts';
export { planChanges } from './plan.ts';
export { applyChanges, diffCatalog, type PushOptions, pushCatalog } from './push.ts';
export { readStripeCatalog } from './read.ts';
export type { CatalogIssue } from './schema.ts';
export type {
  Catalog,
  CatalogInput,
  Feature,
  FeatureInput,
  FeatureType,
  Limit,
  Period,
  Plan,
  PlanFeature,
  PlanFeatureInput,
  PlanInput,
  Price,
  PriceInput,
} from './types.ts';
