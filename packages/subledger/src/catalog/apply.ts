import { createHash, randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { isMissing } from '../stripe/index.ts';
import { type Change, type FieldChange, PLAN_METADATA_KEY } from './changes.ts';
import type { Price } from './types.ts';

/** Ids of objects created earlier in the same push, for the changes planned before they existed. */
export type Created = { products: Map<string, string>; features: Map<string, string> };

/** Makes one change in Stripe: one write, or two for a price that takes a lookup key from another. */
export async function applyChange(stripe: Stripe, change: Change, created: Created): Promise<void> {
  const write = keyedWriter(change);
  switch (change.kind) {
    case 'create_feature': {
      const params = { lookup_key: change.feature, name: change.name };
      const feature = await write(
        params,
        (options) => stripe.entitlements.features.create(params, options),
        (made) =>
          readBack(
            () => stripe.entitlements.features.retrieve(made.id),
            (now) => now.active,
          ),
      );
      created.features.set(change.feature, feature.id);
      return;
    }
    case 'update_feature': {
      const params = Object.fromEntries(change.fields.map(({ field, to }) => [field, to]));
      await write(
        params,
        (options) => stripe.entitlements.features.update(change.featureId, params, options),
        () => readBack(() => stripe.entitlements.features.retrieve(change.featureId), holds(change.fields)),
      );
      return;
    }
    case 'create_product': {
      const params = {
        name: change.name,
        ...(change.description ? { description: change.description } : {}),
        metadata: { [PLAN_METADATA_KEY]: change.plan },
      };
      const product = await write(
        params,
        (options) => stripe.products.create(params, options),
        (made) =>
          readBack(
            () => stripe.products.retrieve(made.id),
            (now) => !now.deleted && now.active,
          ),
      );
      created.products.set(change.plan, product.id);
      return;
    }
    case 'update_product': {
      // Stripe clears a description given as the empty string.
      const params = Object.fromEntries(change.fields.map(({ field, to }) => [field, to ?? '']));
      await write(
        params,
        (options) => stripe.products.update(change.productId, params, options),
        () => readBack(() => stripe.products.retrieve(change.productId), holds(change.fields)),
      );
      return;
    }
    case 'create_price':
    case 'replace_price': {
      const params = priceParams(change.price, productOf(change, created), change.kind === 'replace_price');
      await write(
        params,
        (options) => stripe.prices.create(params, options),
        (made) => holdsLookupKey(stripe, made.id, change.price.lookupKey),
      );
      if (change.kind === 'replace_price' && change.replaces.active)
        await archivePrice(stripe, change, change.replaces.id);
      return;
    }
    case 'relink_price': {
      const params = { lookup_key: change.price.lookupKey, transfer_lookup_key: true };
      await write(
        params,
        (options) => stripe.prices.update(change.target.id, params, options),
        () => holdsLookupKey(stripe, change.target.id, change.price.lookupKey),
      );
      if (change.replaces?.active) await archivePrice(stripe, change, change.replaces.id);
      return;
    }
    case 'attach_feature': {
      const productId = productOf(change, created);
      const params = { entitlement_feature: featureOf(change, created) };
      await write(
        params,
        (options) => stripe.products.createFeature(productId, params, options),
        (made) =>
          readBack(
            () => stripe.products.retrieveFeature(productId, made.id),
            () => true,
          ),
      );
      return;
    }
    case 'detach_feature':
      // An attachment once detached is gone for good: a replay is all there is to it.
      await write(
        { detach: change.productFeatureId },
        (options) => stripe.products.deleteFeature(change.productId, change.productFeatureId, {}, options),
        async () => true,
      );
      return;
    case 'archive_price':
      await archivePrice(stripe, change, change.price.id);
      return;
    case 'archive_product': {
      const params = { active: false };
      await write(
        params,
        (options) => stripe.products.update(change.productId, params, options),
        () =>
          readBack(
            () => stripe.products.retrieve(change.productId),
            (now) => now.deleted || !now.active,
          ),
      );
      return;
    }
  }
}

function archivePrice(stripe: Stripe, change: Change, priceId: string) {
  const params = { active: false };
  return keyedWriter(change, `archive ${priceId}`)(
    params,
    (options) => stripe.prices.update(priceId, params, options),
    () =>
      readBack(
        () => stripe.prices.retrieve(priceId),
        (now) => !now.active,
      ),
  );
}

function priceParams(price: Price, productId: string, transfer: boolean): Stripe.PriceCreateParams {
  return {
    product: productId,
    lookup_key: price.lookupKey,
    unit_amount: price.unitAmount,
    currency: price.currency,
    recurring: { interval: price.interval, interval_count: price.intervalCount },
    ...(transfer ? { transfer_lookup_key: true } : {}),
  };
}

function productOf(change: { plan: string; productId: string | null }, created: Created): string {
  const productId = change.productId ?? created.products.get(change.plan);
  if (!productId)
    throw new Error(`catalog push: the product of plan ${change.plan} was neither found nor created`);
  return productId;
}

function featureOf(change: { feature: string; featureId: string | null }, created: Created): string {
  const featureId = change.featureId ?? created.features.get(change.feature);
  if (!featureId) throw new Error(`catalog push: feature ${change.feature} was neither found nor created`);
  return featureId;
}

type Send<T> = (options: Stripe.RequestOptions) => Promise<Stripe.Response<T>>;

/**
 * Sends a change's writes under idempotency keys derived from the change (which holds what Stripe had
 * when it was planned) and the request, so a write sent twice — a retry, a push re-run after a crash,
 * two pushes at once — is made once.
 *
 * Stripe answers a reused key with the first response for 24 hours, which proves only that the write
 * was once made: its effect may have been undone since (a name edited back in the dashboard, a feature
 * detached, a lookup key moved away). So a replayed write is read back, and sent again under a new key
 * when its effect no longer stands.
 */
function keyedWriter(change: Change, step = '') {
  return async <T>(
    params: object,
    send: Send<T>,
    stillStands: (replayed: T) => Promise<boolean>,
  ): Promise<T> => {
    const key = `subledger-catalog-${sha256(JSON.stringify([change, step, params]))}`;
    const result = await send({ idempotencyKey: key });
    if (result.lastResponse?.headers?.['idempotent-replayed'] !== 'true' || (await stillStands(result)))
      return result;
    return send({ idempotencyKey: `${key}-${randomUUID()}` });
  };
}

/** Reads an object back and tests it; an object that no longer exists fails the test. */
async function readBack<T>(read: () => Promise<T>, test: (now: T) => boolean): Promise<boolean> {
  try {
    return test(await read());
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

const holdsLookupKey = (stripe: Stripe, priceId: string, lookupKey: string) =>
  readBack(
    () => stripe.prices.retrieve(priceId),
    (now) => now.active && now.lookup_key === lookupKey,
  );

/** Whether an object has the values an update gave it (a description cleared reads as null). */
const holds =
  (fields: FieldChange[]) =>
  (now: object): boolean =>
    fields.every(({ field, to }) => ((now as Record<string, unknown>)[field] || null) === (to || null));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
