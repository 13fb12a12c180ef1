import type { Probe } from './probe.ts';

/**
 * Objects a fuzz run starts with, so that generated parameters can name real ids and reach the code
 * behind the "No such …" checks. Each step may fail (its route may not exist yet): the run then has
 * fewer ids, not an error. `{name}` in a body is the id made by an earlier step.
 */
const STEPS: [name: string, path: string, body: string][] = [
  ['customer', '/v1/customers', 'email=fixture%40example.com&name=Fixture'],
  ['product', '/v1/products', 'name=Widget'],
  [
    'recurring_price',
    '/v1/prices',
    'currency=usd&unit_amount=1000&recurring[interval]=month&product={product}&lookup_key=fixture_monthly',
  ],
  ['one_time_price', '/v1/prices', 'currency=usd&unit_amount=500&product={product}'],
  ['payment_method', '/v1/payment_methods', 'type=card&card[token]=tok_visa'],
  ['attached', '/v1/payment_methods/{payment_method}/attach', 'customer={customer}'],
  ['default_pm', '/v1/customers/{customer}', 'invoice_settings[default_payment_method]={payment_method}'],
  ['test_clock', '/v1/test_helpers/test_clocks', 'frozen_time=1767225600&name=fixture'],
  ['meter', '/v1/billing/meters', 'display_name=Calls&event_name=api_call&default_aggregation[formula]=sum'],
  ['feature', '/v1/entitlements/features', 'name=Seats&lookup_key=seats'],
  ['product_feature', '/v1/products/{product}/features', 'entitlement_feature={feature}'],
  [
    'subscription',
    '/v1/subscriptions',
    'customer={customer}&items[0][price]={recurring_price}&default_payment_method={payment_method}',
  ],
  ['invoice', '/v1/invoices', 'customer={customer}'],
  ['invoice_item', '/v1/invoiceitems', 'customer={customer}&amount=300&currency=usd'],
  ['payment_intent', '/v1/payment_intents', 'amount=1000&currency=usd&customer={customer}'],
  ['setup_intent', '/v1/setup_intents', 'customer={customer}'],
  [
    'checkout_session',
    '/v1/checkout/sessions',
    'mode=subscription&line_items[0][price]={recurring_price}&line_items[0][quantity]=1&success_url=https%3A%2F%2Fexample.com%2Fok',
  ],
  ['portal_configuration', '/v1/billing_portal/configurations', 'features[invoice_history][enabled]=true'],
  ['portal_session', '/v1/billing_portal/sessions', 'customer={customer}'],
  ['webhook_endpoint', '/v1/webhook_endpoints', 'url=http%3A%2F%2F127.0.0.1%3A9%2Fhook&enabled_events[0]=*'],
];

/** Ids by object name (`customer`, `billing.meter` …) of everything the fixture steps made. */
export type FixtureIds = Map<string, string[]>;

export async function createFixtures(probe: Probe): Promise<FixtureIds> {
  const made = new Map<string, string>();
  const ids: FixtureIds = new Map();
  const remember = (value: unknown) => {
    const object = value as { id?: unknown; object?: unknown } | null;
    if (!object || typeof object.id !== 'string' || typeof object.object !== 'string') return;
    const list = ids.get(object.object) ?? [];
    if (!list.includes(object.id)) list.push(object.id);
    ids.set(object.object, list);
  };
  for (const [name, path, body] of STEPS) {
    const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, key: string) => made.get(key) ?? 'missing');
    const reply = await probe.post(fill(path), fill(body));
    if (reply.status !== 200) continue;
    const object = reply.json as Record<string, unknown>;
    made.set(name, String(object.id));
    remember(object);
    for (const value of Object.values(object))
      if (typeof value === 'string' && /^[a-z]+_[A-Za-z0-9]{8,}$/.test(value))
        remember({ id: value, object: prefixObject(value) });
  }
  return ids;
}

/** Object name for an id seen inside another object (`in_…` on a subscription). */
const prefixObject = (id: string) => `prefix:${id.slice(0, id.indexOf('_'))}`;

/** Ids that a path parameter after `segment` (`customers`, `meters`, `sessions` …) could name. */
export function idsForSegment(ids: FixtureIds, segment: string): string[] {
  const singular = segment.replace(/ies$/, 'y').replace(/s$/, '');
  const matching = [...ids].filter(([object]) => {
    const last = object.split('.').at(-1) ?? object;
    return last === singular || last === segment || object.replace('.', '_') === singular;
  });
  return matching.flatMap(([, list]) => list);
}

export const allIds = (ids: FixtureIds) => [...new Set([...ids.values()].flat())];
