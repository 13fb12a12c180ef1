import type Stripe from 'stripe';
import { z } from 'zod';
import { invalidState, resourceMissing } from '../core/errors.ts';
import { paginate, paginationParams } from '../core/list.ts';
import { bool, mergeMetadata, metadata, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import { type Route, route } from '../server/route.ts';
import { modeId } from './mode-id.ts';

export type WireFeature = Wire<Stripe.Entitlements.Feature>;

/** Called when a feature is archived or restored, so entitlements that depend on it follow. */
export const featureHooks: { afterActiveChange: ((scope: Scope, feature: WireFeature) => void)[] } = {
  afterActiveChange: [],
};

const MAX_NAME_LENGTH = 80;

const createParams = z.strictObject({
  lookup_key: str(),
  name: str().refine((name) => name.length <= MAX_NAME_LENGTH, {
    message: `Name can be at most ${MAX_NAME_LENGTH} characters.`,
    params: { code: 'parameter_invalid' },
  }),
  metadata: metadata().optional(),
});

const updateParams = z.strictObject({
  active: bool().optional(),
  metadata: metadata().optional(),
  name: str().optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  archived: bool().optional(),
  lookup_key: z.string().optional(),
});

export const featureTable = (scope: Scope) => scope.partition.table<WireFeature>('entitlements.feature');

export function requireFeature(scope: Scope, id: string, param = 'id'): WireFeature {
  const feature = featureTable(scope).get(id);
  if (!feature) throw resourceMissing('feature', id, param);
  return feature;
}

/** Lookup keys are unique among active features; an archived feature's key can be used again. */
function assertLookupKeyFree(scope: Scope, lookupKey: string, exceptId: string | null): void {
  for (const feature of featureTable(scope).values()) {
    if (feature.active && feature.lookup_key === lookupKey && feature.id !== exceptId)
      throw invalidState(
        `A feature with the lookup_key \`${lookupKey}\` already exists (\`${feature.id}\`).`,
        'lookup_key',
      );
  }
}

function createFeature(scope: Scope, params: z.output<typeof createParams>): WireFeature {
  assertLookupKeyFree(scope, params.lookup_key, null);
  return featureTable(scope).insert({
    id: modeId(scope, 'feat'),
    object: 'entitlements.feature',
    active: true,
    livemode: scope.partition.livemode,
    lookup_key: params.lookup_key,
    metadata: params.metadata ?? {},
    name: params.name,
  });
}

function updateFeature(scope: Scope, id: string, params: z.output<typeof updateParams>): WireFeature {
  const before = requireFeature(scope, id);
  const next = structuredClone(before);
  if (params.active !== undefined) next.active = params.active;
  if (params.metadata !== undefined) next.metadata = mergeMetadata(next.metadata, params.metadata);
  if (params.name !== undefined) next.name = params.name;
  if (next.active && !before.active) assertLookupKeyFree(scope, next.lookup_key, id);
  featureTable(scope).replace(next);
  if (next.active !== before.active) for (const hook of featureHooks.afterActiveChange) hook(scope, next);
  return next;
}

export const featureRoutes: Route[] = [
  route('post', '/v1/entitlements/features', createParams, ({ scope, params }) =>
    createFeature(scope, params),
  ),
  route('get', '/v1/entitlements/features/:id', z.strictObject({}), ({ scope, path }) =>
    requireFeature(scope, path.id ?? ''),
  ),
  route('post', '/v1/entitlements/features/:id', updateParams, ({ scope, path, params }) =>
    updateFeature(scope, path.id ?? '', params),
  ),
  route('get', '/v1/entitlements/features', listParams, ({ scope, params }) => {
    const rows = featureTable(scope)
      .newestFirst()
      .filter(
        (f) =>
          (params.archived === undefined || f.active !== params.archived) &&
          (params.lookup_key === undefined || f.lookup_key === params.lookup_key),
      );
    return paginate(rows, params, '/v1/entitlements/features', 'feature');
  }),
];
