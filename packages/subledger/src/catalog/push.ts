import type Stripe from 'stripe';
import { applyChange, type Created } from './apply.ts';
import type { Change } from './changes.ts';
import { planChanges } from './plan.ts';
import { readStripeCatalog } from './read.ts';
import type { Catalog } from './types.ts';

/** What Stripe lacks of the catalog, or holds differently: the drift `catalog diff` reports. */
export async function diffCatalog(stripe: Stripe, catalog: Catalog): Promise<Change[]> {
  return planChanges(catalog, await readStripeCatalog(stripe, catalog));
}

export type PushOptions = {
  /** Plan only: read Stripe, write nothing. */
  dryRun?: boolean;
  /** Called after each change is written. */
  onApplied?: (change: Change) => void;
};

/** Makes Stripe hold the catalog; returns the changes it made (or, with `dryRun`, would make). */
export async function pushCatalog(
  stripe: Stripe,
  catalog: Catalog,
  options: PushOptions = {},
): Promise<Change[]> {
  const changes = await diffCatalog(stripe, catalog);
  if (!options.dryRun) await applyChanges(stripe, changes, options.onApplied);
  return changes;
}

/** Writes the changes in order; each write carries an idempotency key derived from the change. */
export async function applyChanges(
  stripe: Stripe,
  changes: readonly Change[],
  onApplied?: (change: Change) => void,
): Promise<void> {
  const created: Created = { products: new Map(), features: new Map() };
  for (const change of changes) {
    await applyChange(stripe, change, created);
    onApplied?.(change);
  }
}
