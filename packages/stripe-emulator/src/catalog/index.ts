import type { EmulatorModule } from '../server/module.ts';
import { activeEntitlementRoutes, refreshAllActiveEntitlements } from './active-entitlements.ts';
import { tiersIn } from './catalog-store.ts';
import { featureHooks, featureRoutes } from './features.ts';
import { meterEventRoutes } from './meter-events.ts';
import { meterRoutes } from './meters.ts';
import { priceRoutes } from './prices.ts';
import { productFeatureRoutes } from './product-features.ts';
import { productRoutes } from './products.ts';

export {
  refreshActiveEntitlements,
  type WireActiveEntitlement,
  type WireEntitlementSummary,
} from './active-entitlements.ts';
export { type AdHocTerms, createAdHocPrice } from './ad-hoc-prices.ts';
export {
  priceTable,
  priceTiers,
  productTable,
  requirePrice,
  requireProduct,
  type WirePrice,
  type WireProduct,
  type WireTier,
} from './catalog-store.ts';
export { meterUsage } from './meter-events.ts';
export { activeMeterFor, requireMeter, type WireMeter } from './meters.ts';

/** Archiving or restoring a feature changes what every product carrying it grants. */
featureHooks.afterActiveChange.push((scope) => refreshAllActiveEntitlements(scope));

export const catalogModule: EmulatorModule = {
  name: 'catalog',
  routes: [
    ...productRoutes,
    ...productFeatureRoutes,
    ...priceRoutes,
    ...featureRoutes,
    ...activeEntitlementRoutes,
    ...meterRoutes,
    ...meterEventRoutes,
  ],
  install: (emulator) => {
    emulator.includable('price', 'tiers', (price, partition) => tiersIn(partition, String(price.id)));
  },
};
