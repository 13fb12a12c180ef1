import type { StripeObject } from './envelope.ts';
import type { KindName } from './kinds.ts';
import type { MirrorWrite } from './mirror-writer.ts';

/**
 * The object a read writes for one Stripe answers 404 for: no more than that it is gone. The writer lays
 * it over the row's last known object (see `tombstonesUpsert`).
 */
export const missingObject = (kind: KindName, id: string): StripeObject => ({
  id,
  object: kind,
  deleted: true,
});

/** A tombstone that carries no more of its object than the id and type, as `missingObject` does. */
export function isBareTombstone(write: MirrorWrite): boolean {
  return write.deleted && Object.keys(write.object).every((field) => BARE_FIELDS.has(field));
}

const BARE_FIELDS = new Set(['id', 'object', 'deleted']);

/**
 * What a bare tombstone says of its object: gone, and, for a product or a price, inactive, as Stripe's
 * own `product.deleted` and `price.deleted` events show them, so that nothing reading `active` offers
 * a price Stripe no longer has.
 */
export function goneMarks(kind: KindName): StripeObject {
  return kind === 'product' || kind === 'price' ? { deleted: true, active: false } : { deleted: true };
}
