import type { Path } from './compare-shape.ts';
import { type Allowance, type Finding, failures, judge } from './judge.ts';
import { referenceFor } from './references.ts';
import type { Samples } from './samples.ts';
import type { SdkTypes, TypeRef } from './sdk-types.ts';

export type ObjectResult = {
  object: string;
  outcome: 'matched' | 'mismatched' | 'unavailable';
  findings: Finding[];
  /** Why there is no sample, for `unavailable`. */
  reason?: string;
};

/**
 * Differences proven to be version differences between the reference and API 2026-10-28, each with
 * its evidence. The SDK's declarations already settle most (see judge.ts); these are the rest.
 */
export const OBJECT_ALLOWANCES: readonly Allowance[] = [
  {
    object: '*',
    path: /^(refunds|items|lines)\.total_count$/,
    reason:
      'lists embedded in an object carry total_count in real responses (pay-rails, API 2025-10-29: ' +
      'charge.refunds in test_stripe_can_create_a_subscription/05-GET-v1_charges_…, subscription.items and ' +
      'invoice.lines in …/03-POST-v1_subscriptions.json); fixtures3 and the SDK list type omit it',
  },
];

/** Event payloads are polymorphic: the envelope is compared here, `data.object` as its own type. */
const opaqueFor = (object: string) => (path: Path) =>
  object === 'event' && path[0] === 'data' && (path[1] === 'object' || path[1] === 'previous_attributes');

export function sdkTypeFor(sdk: SdkTypes, object: string): TypeRef {
  const customer = sdk.objectType('customer');
  if (!customer) throw new Error('the SDK declares no customer');
  if (object === 'list') return sdk.envelope('ApiList', customer);
  if (object === 'search_result') return sdk.envelope('ApiSearchResult', customer);
  const type = sdk.objectType(object);
  if (!type) throw new Error(`the SDK declares no object '${object}'`);
  return type;
}

export function checkObjects(samples: Samples, sdk: SdkTypes, objects: readonly string[]): ObjectResult[] {
  return objects.map((object) => {
    const sample = samples.produced.get(object);
    if (sample === undefined)
      return { object, outcome: 'unavailable', findings: [], reason: samples.unavailable.get(object) ?? '' };
    const reference = referenceFor(object);
    if (reference === undefined) throw new Error(`fixtures3.json has no '${object}'`);
    const findings = judge(reference, sample, {
      sdk,
      root: sdkTypeFor(sdk, object),
      object,
      isOpaque: opaqueFor(object),
      allowances: OBJECT_ALLOWANCES,
    });
    return { object, outcome: failures(findings).length === 0 ? 'matched' : 'mismatched', findings };
  });
}
