import { invalidState } from './errors.ts';

/** Which table an expandable field points into, by field name (Stripe names them consistently). */
const FIELD_TARGETS: Record<string, string> = {
  customer: 'customer',
  discount: 'discount',
  discounts: 'discount',
  product: 'product',
  price: 'price',
  default_price: 'price',
  subscription: 'subscription',
  subscription_item: 'subscription_item',
  invoice: 'invoice',
  latest_invoice: 'invoice',
  payment_intent: 'payment_intent',
  payment_method: 'payment_method',
  default_payment_method: 'payment_method',
  test_clock: 'test_helpers.test_clock',
  feature: 'entitlements.feature',
  latest_charge: 'charge',
  balance_transaction: 'balance_transaction',
  charge: 'charge',
  setup_intent: 'setup_intent',
  pending_setup_intent: 'setup_intent',
  schedule: 'subscription_schedule',
  configuration: 'billing_portal.configuration',
  invoice_item: 'invoiceitem',
  on_behalf_of: 'account',
  application: 'application',
  tiers: 'price_tiers',
};

const MAX_EXPAND_DEPTH = 4;

export type Resolve = (objectName: string, id: string) => unknown;

/**
 * Computes a field that appears only when asked for (`customer.tax`, `invoice.payments`); `undefined`
 * when the object has no such field.
 */
export type Include = (object: Record<string, unknown>, field: string) => unknown;

export type Lookups = { resolve: Resolve; include: Include };

/**
 * Replaces ids with the objects they name, along each dotted path (`latest_invoice.payments`,
 * `data.customer` on lists). Works on a copy: stored objects always keep ids.
 */
export function expand<T>(value: T, paths: string[], lookups: Lookups): T {
  if (paths.length === 0) return value;
  const copy = structuredClone(value);
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > MAX_EXPAND_DEPTH)
      throw invalidState(
        `You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`,
        'expand',
      );
    walk(copy, segments, path, lookups);
  }
  return copy;
}

function walk(node: unknown, segments: string[], path: string, lookups: Lookups): void {
  const [head, ...rest] = segments;
  if (head === undefined || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, segments, path, lookups);
    return;
  }
  const record = node as Record<string, unknown>;
  if (!(head in record)) {
    const included = lookups.include(record, head);
    if (included === undefined) throw cannotExpand(path, head);
    record[head] = included;
  }
  const current = record[head];
  if (typeof current === 'string') {
    const target = FIELD_TARGETS[head];
    if (!target) throw cannotExpand(path, head);
    const found = lookups.resolve(target, current);
    if (found !== undefined) record[head] = structuredClone(found);
  } else if (
    Array.isArray(current) &&
    current.length > 0 &&
    current.every((item) => typeof item === 'string')
  ) {
    const target = FIELD_TARGETS[head] ?? FIELD_TARGETS[head.replace(/s$/, '')];
    if (!target) throw cannotExpand(path, head);
    record[head] = current.map((id) => structuredClone(lookups.resolve(target, id as string) ?? id));
  }
  if (rest.length > 0) walk(record[head], rest, path, lookups);
}

const cannotExpand = (path: string, field: string) =>
  invalidState(
    `This property cannot be expanded (${field}). You may want to try expanding '${path}' instead.`,
    'expand',
  );
