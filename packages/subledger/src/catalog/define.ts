import { type CatalogIssue, type ParsedCatalog, type ParsedPlanFeature, parseShape } from './schema.ts';
import type { Catalog, CatalogInput, Feature, Plan, PlanFeature } from './types.ts';

/** A catalog that cannot be used; `issues` names every problem with its path, and so does the message. */
export class CatalogError extends Error {
  readonly code = 'catalog_invalid';
  readonly issues: readonly CatalogIssue[];
  constructor(issues: CatalogIssue[]) {
    super(`invalid catalog: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`);
    this.name = 'CatalogError';
    this.issues = issues;
  }
}

/**
 * Marks catalogs made here. `Symbol.for`, not a module-local symbol, so a catalog built by another copy
 * of this package (the app's) is still recognised by the CLI's.
 */
const CATALOG_BRAND = Symbol.for('subledger.catalog');

/**
 * Declares the app's features and plans: validated (throws `CatalogError` naming every problem) and
 * frozen. Feature ids in plans are checked by the compiler too.
 */
export function defineCatalog<F extends string, P extends string>(input: CatalogInput<F, P>): Catalog<F, P> {
  return parseCatalog(input) as Catalog<F, P>;
}

/** `defineCatalog` for input of unknown shape, such as a module's default export. */
export function parseCatalog(input: unknown): Catalog {
  if (isCatalog(input)) return input;
  const shape = parseShape(input);
  if (!shape.ok) throw new CatalogError(shape.issues);
  const issues = [
    ...checkFeatures(shape.value),
    ...checkPlanFeatures(shape.value),
    ...checkLookupKeys(shape.value),
  ];
  if (issues.length > 0) throw new CatalogError(issues);
  const catalog = build(shape.value);
  Object.defineProperty(catalog, CATALOG_BRAND, { value: true });
  return deepFreeze(catalog);
}

export function isCatalog(value: unknown): value is Catalog {
  return typeof value === 'object' && value !== null && CATALOG_BRAND in value;
}

function checkFeatures(catalog: ParsedCatalog): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  for (const [id, feature] of Object.entries(catalog.features)) {
    const path = `features.${id}.period`;
    if (feature.type === 'boolean' && feature.period !== undefined)
      issues.push({ path, message: 'a boolean feature has no period' });
    if (feature.type !== 'boolean' && feature.period === undefined)
      issues.push({ path, message: `a ${feature.type} feature needs a period (day, week, month or year)` });
  }
  return issues;
}

/** Each plan names only declared features, and gives each what its type needs: nothing, a limit, a grant. */
function checkPlanFeatures(catalog: ParsedCatalog): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  for (const [planId, plan] of Object.entries(catalog.plans))
    for (const [featureId, given] of Object.entries(plan.features)) {
      const path = `plans.${planId}.features.${featureId}`;
      const feature = catalog.features[featureId];
      if (!feature)
        issues.push({ path, message: `unknown feature '${featureId}'; declare it under features` });
      else {
        const message = planFeatureProblem(feature.type, given);
        if (message) issues.push({ path, message });
      }
    }
  return issues;
}

function planFeatureProblem(type: Feature['type'], given: ParsedPlanFeature): string | null {
  const { limit, grant, rollover } = given;
  switch (type) {
    case 'boolean':
      return limit !== undefined || grant !== undefined || rollover !== undefined
        ? 'a boolean feature takes true, not a limit or grant'
        : null;
    case 'metered':
      if (grant !== undefined || rollover !== undefined)
        return 'a metered feature takes a limit, not a grant or rollover';
      return limit === undefined ? 'a metered feature needs a limit ({ limit: 1000 } or "unlimited")' : null;
    case 'credits':
      if (limit !== undefined) return 'a credits feature takes a grant, not a limit';
      return grant === undefined ? 'a credits feature needs a grant ({ grant: 500 })' : null;
  }
}

/** A lookup key names one price in Stripe, so it may appear once in the whole catalog. */
function checkLookupKeys(catalog: ParsedCatalog): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const firstSeen = new Map<string, string>();
  for (const [planId, plan] of Object.entries(catalog.plans))
    plan.prices.forEach((price, index) => {
      const path = `plans.${planId}.prices[${index}].lookupKey`;
      const earlier = firstSeen.get(price.lookupKey);
      if (earlier)
        issues.push({ path, message: `'${price.lookupKey}' is already the lookup key of ${earlier}` });
      else firstSeen.set(price.lookupKey, `plans.${planId}.prices[${index}]`);
    });
  return issues;
}

function build(parsed: ParsedCatalog): Catalog {
  const features: Record<string, Feature> = {};
  for (const [id, { type, name, period }] of Object.entries(parsed.features))
    features[id] = type === 'boolean' ? { id, type, name } : { id, type, name, period: checked(period) };
  const plans: Record<string, Plan> = {};
  for (const [id, plan] of Object.entries(parsed.plans))
    plans[id] = {
      id,
      name: plan.name,
      description: plan.description ?? null,
      trialDays: plan.trialDays,
      prices: plan.prices,
      features: Object.fromEntries(
        Object.entries(plan.features).map(([featureId, given]) => [
          featureId,
          planFeature(features[featureId] as Feature, given),
        ]),
      ),
    };
  return { features, plans };
}

function planFeature(feature: Feature, given: ParsedPlanFeature): PlanFeature {
  if (feature.type === 'boolean') return feature;
  if (feature.type === 'metered') return { ...feature, type: 'metered', limit: checked(given.limit) };
  return { ...feature, type: 'credits', grant: checked(given.grant), rollover: given.rollover ?? null };
}

/** A value the checks above guarantee; its absence is a bug here, not a problem in the catalog. */
function checked<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('defineCatalog: a checked value is missing');
  return value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
