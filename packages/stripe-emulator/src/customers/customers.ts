import type Stripe from 'stripe';
import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { emptyable, int, list, mergeMetadata, metadata, oneOf } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { addressParam, invoiceSettingsParam, shippingParam, toAddress } from '../core/shared-params.ts';
import type { Wire } from '../core/wire.ts';
import { emitEvent, previousAttributes } from '../events/emit.ts';
import { type Route, route } from '../server/route.ts';

export type WireCustomer = Wire<Stripe.Customer>;

const customerFields = {
  address: emptyable(addressParam).optional(),
  balance: int().optional(),
  description: emptyable(z.string()).optional(),
  email: emptyable(z.string()).optional(),
  invoice_prefix: z.string().optional(),
  invoice_settings: invoiceSettingsParam.optional(),
  metadata: metadata().optional(),
  name: emptyable(z.string()).optional(),
  next_invoice_sequence: int({ min: 1 }).optional(),
  phone: emptyable(z.string()).optional(),
  preferred_locales: emptyable(list(z.string())).optional(),
  shipping: emptyable(shippingParam).optional(),
  tax_exempt: emptyable(oneOf(['exempt', 'none', 'reverse'])).optional(),
  tax: z
    .strictObject({ ip_address: z.string().optional(), validate_location: z.string().optional() })
    .optional(),
  business_name: emptyable(z.string()).optional(),
  individual_name: emptyable(z.string()).optional(),
};

const createParams = z.strictObject({
  ...customerFields,
  payment_method: z.string().optional(),
  source: z.string().optional(),
  test_clock: z.string().optional(),
  validate: z.string().optional(),
  cash_balance: z.unknown().optional(),
  tax_id_data: z.unknown().optional(),
});

const updateParams = z.strictObject({
  ...customerFields,
  default_source: z.string().optional(),
  source: z.string().optional(),
  validate: z.string().optional(),
  cash_balance: z.unknown().optional(),
});

type CustomerInput = Partial<z.output<typeof updateParams>>;

const listParams = z.strictObject({
  ...paginationParams,
  email: z.string().optional(),
  created: createdFilterParam,
  test_clock: z.string().optional(),
});

const searchFields: SearchFields<WireCustomer> = {
  email: (c) => c.email,
  name: (c) => c.name,
  phone: (c) => c.phone,
  created: (c) => c.created,
};

export const customerTable = (scope: Scope) => scope.partition.table<WireCustomer>('customer');

/** The customer, or Stripe's 404 naming the parameter that pointed at it. */
export function requireCustomer(scope: Scope, id: string, param = 'id'): WireCustomer {
  const customer = customerTable(scope).get(id);
  if (!customer) throw resourceMissing('customer', id, param);
  return customer;
}

function applyInput(customer: WireCustomer, input: CustomerInput): WireCustomer {
  const next = structuredClone(customer);
  if (input.address !== undefined) next.address = input.address && toAddress(input.address);
  if (input.balance !== undefined) next.balance = input.balance;
  if (input.description !== undefined) next.description = input.description;
  if (input.email !== undefined) next.email = input.email;
  if (input.invoice_prefix !== undefined) next.invoice_prefix = input.invoice_prefix;
  if (input.metadata !== undefined) next.metadata = mergeMetadata(next.metadata, input.metadata);
  if (input.name !== undefined) next.name = input.name;
  if (input.next_invoice_sequence !== undefined) next.next_invoice_sequence = input.next_invoice_sequence;
  if (input.phone !== undefined) next.phone = input.phone;
  if (input.preferred_locales !== undefined) next.preferred_locales = input.preferred_locales ?? [];
  if (input.shipping !== undefined)
    next.shipping = input.shipping && {
      address: toAddress(input.shipping.address),
      name: input.shipping.name,
      phone: input.shipping.phone ?? null,
    };
  if (input.tax_exempt !== undefined) next.tax_exempt = input.tax_exempt ?? 'none';
  if (input.default_source !== undefined) next.default_source = input.default_source;
  const settings = input.invoice_settings;
  if (settings?.default_payment_method !== undefined)
    next.invoice_settings.default_payment_method = settings.default_payment_method || null;
  if (settings?.footer !== undefined) next.invoice_settings.footer = settings.footer || null;
  if (settings?.custom_fields !== undefined) next.invoice_settings.custom_fields = settings.custom_fields;
  return next;
}

export function newCustomer(scope: Scope, testClock: string | null, created: number): WireCustomer {
  return {
    id: scope.emulator.random.id('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: scope.emulator.random.token(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: scope.partition.livemode,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: testClock,
  };
}

/**
 * Hooks other resources attach to customer changes: checking, then attaching, a `payment_method` on
 * create, and canceling subscriptions when a customer is deleted. `beforeCreate` hooks only check
 * (they throw, and write nothing), so a refused create leaves no customer behind.
 */
export const customerHooks: {
  beforeCreate: ((scope: Scope, paymentMethod: string | undefined) => void)[];
  afterCreate: ((scope: Scope, customer: WireCustomer, paymentMethod: string | undefined) => void)[];
  beforeDelete: ((scope: Scope, customer: WireCustomer) => void)[];
} = {
  beforeCreate: [],
  afterCreate: [],
  beforeDelete: [],
};

export function createCustomer(scope: Scope, params: z.output<typeof createParams>): WireCustomer {
  const testClock = params.test_clock ?? null;
  const created = scope.emulator.nowFor(scope.partition, testClock);
  for (const hook of customerHooks.beforeCreate) hook(scope, params.payment_method);
  const customer = customerTable(scope).insert(applyInput(newCustomer(scope, testClock, created), params));
  emitEvent(scope, 'customer.created', customer, undefined, created);
  for (const hook of customerHooks.afterCreate) hook(scope, customer, params.payment_method);
  return customerTable(scope).get(customer.id) ?? customer;
}

/** Saves a changed customer and emits `customer.updated` when anything changed. */
export function saveCustomer(scope: Scope, before: WireCustomer, after: WireCustomer): WireCustomer {
  customerTable(scope).replace(after);
  const previous = previousAttributes(before, after);
  if (previous) emitEvent(scope, 'customer.updated', after, previous);
  return after;
}

export const customerRoutes: Route[] = [
  route('post', '/v1/customers', createParams, ({ scope, params }) => createCustomer(scope, params)),
  route('get', '/v1/customers/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(customerTable(scope).newestFirst(), params, searchFields, '/v1/customers/search'),
  ),
  route('get', '/v1/customers/:id', z.strictObject({}), ({ scope, path }) => {
    const id = path.id ?? '';
    const customer = customerTable(scope).get(id);
    if (customer) return customer;
    const deleted = scope.partition.table<{ id: string }>('deleted_customer').get(id);
    if (deleted) return deleted;
    throw resourceMissing('customer', id);
  }),
  route('post', '/v1/customers/:id', updateParams, ({ scope, path, params }) => {
    const before = requireCustomer(scope, path.id ?? '');
    return saveCustomer(scope, before, applyInput(before, params));
  }),
  route('delete', '/v1/customers/:id', z.strictObject({}), ({ scope, path }) => {
    const customer = requireCustomer(scope, path.id ?? '');
    for (const hook of customerHooks.beforeDelete) hook(scope, customer);
    customerTable(scope).delete(customer.id);
    const deleted = { id: customer.id, object: 'customer' as const, deleted: true as const };
    scope.partition.table<typeof deleted>('deleted_customer').insert(deleted);
    emitEvent(scope, 'customer.deleted', customer);
    return deleted;
  }),
  route('get', '/v1/customers', listParams, ({ scope, params }) => {
    const rows = customerTable(scope)
      .newestFirst()
      .filter(
        (c) =>
          (params.email === undefined || c.email === params.email) &&
          // As on Stripe, a customer on a test clock is listed only when its clock is asked for.
          (c.test_clock ?? null) === (params.test_clock ?? null) &&
          matchesCreated(c.created, params.created),
      );
    return paginate(rows, params, '/v1/customers', 'customer');
  }),
];
