import { z } from 'zod';
import { resourceMissing } from '../core/errors.ts';
import { createdFilterParam, matchesCreated, paginate, paginationParams } from '../core/list.ts';
import { bool, emptyable, int, metadata, oneOf, str } from '../core/params.ts';
import { type SearchFields, search, searchParams } from '../core/search.ts';
import { type Route, route } from '../server/route.ts';
import { withDeferredEntitlements } from './entitlements.ts';
import { markUncollectible, voidInvoice } from './invoices.ts';
import {
  createManualInvoice,
  deleteDraft,
  editInvoice,
  finalizeByRequest,
  invoiceNow,
  payByRequest,
} from './manual-invoices.ts';
import { createPreview, previewParams } from './preview.ts';
import {
  idOf,
  invoicePayments,
  invoiceSubscriptionId,
  invoices,
  requireInvoice,
  type WireInvoice,
} from './store.ts';

const collectionMethodParam = oneOf(['charge_automatically', 'send_invoice']);

const createParams = z.strictObject({
  customer: str(),
  subscription: str().optional(),
  auto_advance: bool().optional(),
  collection_method: collectionMethodParam.optional(),
  currency: str().optional(),
  days_until_due: int({ min: 0 }).optional(),
  default_payment_method: str().optional(),
  description: z.string().optional(),
  metadata: metadata().optional(),
  pending_invoice_items_behavior: oneOf(['exclude', 'include']).optional(),
});

const updateParams = z.strictObject({
  auto_advance: bool().optional(),
  collection_method: collectionMethodParam.optional(),
  default_payment_method: emptyable(z.string()).optional(),
  description: emptyable(z.string()).optional(),
  metadata: metadata().optional(),
});

const listParams = z.strictObject({
  ...paginationParams,
  customer: z.string().optional(),
  subscription: z.string().optional(),
  status: oneOf(['draft', 'open', 'paid', 'uncollectible', 'void']).optional(),
  collection_method: collectionMethodParam.optional(),
  created: createdFilterParam,
  due_date: createdFilterParam,
});

const payParams = z.strictObject({
  payment_method: str().optional(),
  off_session: bool().optional(),
  paid_out_of_band: bool().optional(),
});

const searchFields: SearchFields<WireInvoice> = {
  customer: (i) => idOf(i.customer),
  subscription: (i) => invoiceSubscriptionId(i),
  status: (i) => (i.status === null ? null : String(i.status)),
  number: (i) => i.number,
  total: (i) => i.total,
  currency: (i) => i.currency,
  created: (i) => i.created,
};

function matchesList(invoice: WireInvoice, params: z.output<typeof listParams>): boolean {
  return (
    (params.customer === undefined || idOf(invoice.customer) === params.customer) &&
    (params.subscription === undefined || invoiceSubscriptionId(invoice) === params.subscription) &&
    (params.status === undefined || invoice.status === params.status) &&
    (params.collection_method === undefined || invoice.collection_method === params.collection_method) &&
    matchesCreated(invoice.created, params.created) &&
    (params.due_date === undefined ||
      (invoice.due_date !== null && matchesCreated(invoice.due_date, params.due_date)))
  );
}

const invoicePaymentListParams = z.strictObject({
  ...paginationParams,
  invoice: z.string().optional(),
  status: oneOf(['canceled', 'open', 'paid']).optional(),
  payment: z
    .strictObject({
      type: oneOf(['payment_intent', 'payment_record']),
      payment_intent: z.string().optional(),
    })
    .optional(),
  created: createdFilterParam,
});

export const invoiceRoutes: Route[] = [
  route('post', '/v1/invoices/create_preview', previewParams, ({ scope, params }) =>
    createPreview(scope, params),
  ),
  route('post', '/v1/invoices', createParams, ({ scope, params }) =>
    createManualInvoice(scope, {
      customer: params.customer,
      subscription: params.subscription,
      autoAdvance: params.auto_advance,
      collectionMethod: params.collection_method,
      currency: params.currency?.toLowerCase(),
      daysUntilDue: params.days_until_due,
      defaultPaymentMethod: params.default_payment_method,
      description: params.description,
      metadata: params.metadata,
      includePendingItems: params.pending_invoice_items_behavior === 'include',
    }),
  ),
  route('get', '/v1/invoices/search', z.strictObject(searchParams), ({ scope, params }) =>
    search(invoices(scope.partition).newestFirst(), params, searchFields, '/v1/invoices/search'),
  ),
  route('get', '/v1/invoices', listParams, ({ scope, params }) =>
    paginate(
      invoices(scope.partition)
        .newestFirst()
        .filter((invoice) => matchesList(invoice, params)),
      params,
      '/v1/invoices',
      'invoice',
    ),
  ),
  route('get', '/v1/invoices/:id', z.strictObject({}), ({ scope, path }) =>
    requireInvoice(scope, path.id ?? ''),
  ),
  route('post', '/v1/invoices/:id', updateParams, ({ scope, path, params }) =>
    editInvoice(scope, requireInvoice(scope, path.id ?? ''), {
      autoAdvance: params.auto_advance,
      collectionMethod: params.collection_method,
      defaultPaymentMethod: params.default_payment_method,
      description: params.description,
      metadata: params.metadata,
    }),
  ),
  route('delete', '/v1/invoices/:id', z.strictObject({}), ({ scope, path }) =>
    deleteDraft(scope, requireInvoice(scope, path.id ?? '')),
  ),
  route('get', '/v1/invoices/:id/lines', z.strictObject(paginationParams), ({ scope, path, params }) => {
    const invoice = requireInvoice(scope, path.id ?? '');
    return paginate(invoice.lines.data, params, `/v1/invoices/${invoice.id}/lines`, 'line_item');
  }),
  route(
    'post',
    '/v1/invoices/:id/finalize',
    z.strictObject({ auto_advance: bool().optional() }),
    ({ scope, path, params }) =>
      withDeferredEntitlements(scope, () =>
        finalizeByRequest(scope, requireInvoice(scope, path.id ?? ''), params.auto_advance),
      ),
  ),
  route('post', '/v1/invoices/:id/pay', payParams, ({ scope, path, params }) =>
    withDeferredEntitlements(scope, () =>
      payByRequest(scope, requireInvoice(scope, path.id ?? ''), {
        paymentMethod: params.payment_method,
        paidOutOfBand: params.paid_out_of_band,
      }),
    ),
  ),
  route('post', '/v1/invoices/:id/void', z.strictObject({}), ({ scope, path }) => {
    const invoice = requireInvoice(scope, path.id ?? '');
    return voidInvoice(scope, invoice, invoiceNow(scope, invoice));
  }),
  route('post', '/v1/invoices/:id/mark_uncollectible', z.strictObject({}), ({ scope, path }) => {
    const invoice = requireInvoice(scope, path.id ?? '');
    return markUncollectible(scope, invoice, invoiceNow(scope, invoice));
  }),
  route('get', '/v1/invoice_payments', invoicePaymentListParams, ({ scope, params }) => {
    const rows = invoicePayments(scope.partition)
      .newestFirst()
      .filter(
        (payment) =>
          (params.invoice === undefined || payment.invoice === params.invoice) &&
          (params.status === undefined || payment.status === params.status) &&
          (params.payment?.payment_intent === undefined ||
            payment.payment.payment_intent === params.payment.payment_intent) &&
          (params.payment === undefined || payment.payment.type === params.payment.type) &&
          matchesCreated(payment.created, params.created),
      );
    return paginate(rows, params, '/v1/invoice_payments', 'invoice_payment');
  }),
  route('get', '/v1/invoice_payments/:id', z.strictObject({}), ({ scope, path }) => {
    const payment = invoicePayments(scope.partition).get(path.id ?? '');
    if (!payment) throw resourceMissing('invoice_payment', path.id ?? '');
    return payment;
  }),
];
