import type pg from 'pg';
import { planOf } from '../access/index.ts';
import { type Catalog, PLAN_METADATA_KEY } from '../catalog/index.ts';
import { TOP_UP_METADATA_KEY } from '../sync/index.ts';
import type { Grant } from './grants.ts';
import { grantsOfInvoice, type InvoiceLine } from './plan-grants.ts';

/** A request the sync wrote for a paid invoice or top-up (see `credit_grant_requests`). */
export type GrantRequest = {
  sourceKind: 'invoice' | 'top_up';
  sourceId: string;
  stripeAccount: string;
  livemode: boolean;
};

/** What a request comes to: grants, nothing to grant (with why), or not yet knowable (retry later). */
export type GrantPlan =
  | { kind: 'grants'; grants: Grant[] }
  | { kind: 'nothing'; reason: string }
  | { kind: 'wait'; reason: string };

type LineRow = Omit<InvoiceLine, 'plan'> & {
  priceId: string | null;
  lookupKey: string | null;
  productPlan: string | null;
};

/**
 * Paid invoices' lines with what names their plan: the price's lookup key (from the line, or the
 * mirror's price) and its product's plan metadata, one row per invoice the mirror holds (`n`: its place
 * in the request). The mirror holds the lines each invoice came with.
 */
const PAID_INVOICES = `
  with wanted as (
    select * from unnest($1::text[], $2::text[], $3::boolean[]) with ordinality as w(id, stripe_account, livemode, n)
  ), v as (
    select i.*, wanted.n from wanted
    join invoices i using (id, stripe_account, livemode)
    where not i.deleted
  ), lines as (
    select v.n, l, coalesce(l->'pricing'->'price_details'->>'price', l->'price'->>'id') as price_id,
              coalesce(l->'pricing'->'price_details'->>'product', l->'price'->>'product') as product_id,
           v.stripe_account, v.livemode
    from v, jsonb_array_elements(coalesce(v.data->'lines'->'data', '[]')) as l
  )
  select v.n, v.status, v.data->>'billing_reason' as billing_reason, a.account_id,
    (select coalesce(json_agg(json_build_object(
       'amount', (l->>'amount')::bigint,
       'quantity', coalesce((l->>'quantity')::bigint, 1),
       'periodStart', (l->'period'->>'start')::bigint,
       'periodEnd', (l->'period'->>'end')::bigint,
       'proration', coalesce((l->'parent'->'subscription_item_details'->>'proration')::boolean,
                             (l->'parent'->'invoice_item_details'->>'proration')::boolean,
                             (l->>'proration')::boolean, false),
       'priceId', price_id,
       'lookupKey', coalesce(l->'price'->>'lookup_key',
         (select p.data->>'lookup_key' from prices p
          where p.id = price_id and p.stripe_account = lines.stripe_account and p.livemode = lines.livemode)),
       'productPlan', (select r.data->'metadata'->>'${PLAN_METADATA_KEY}' from products r
          where r.id = product_id and r.stripe_account = lines.stripe_account and r.livemode = lines.livemode)
     )), '[]') from lines where lines.n = v.n) as lines
  from v left join account_customers a
    on a.customer_id = v.customer_id and a.stripe_account = v.stripe_account and a.livemode = v.livemode`;

type PaidInvoiceRow = {
  n: string;
  status: string;
  billing_reason: string | null;
  account_id: string | null;
  lines: LineRow[];
};

/** The credits paid invoices grant their accounts, per the catalog: one plan per request, in order. */
export async function planInvoiceGrants(
  client: Pick<pg.ClientBase, 'query'>,
  catalog: Catalog,
  requests: GrantRequest[],
): Promise<GrantPlan[]> {
  if (requests.length === 0) return [];
  const { rows } = await client.query<PaidInvoiceRow>(PAID_INVOICES, [
    requests.map((request) => request.sourceId),
    requests.map((request) => request.stripeAccount),
    requests.map((request) => request.livemode),
  ]);
  const byPlace = new Map(rows.map((row) => [Number(row.n), row]));
  return requests.map((request, index) => planOfInvoice(catalog, request, byPlace.get(index + 1)));
}

function planOfInvoice(
  catalog: Catalog,
  request: GrantRequest,
  invoice: PaidInvoiceRow | undefined,
): GrantPlan {
  if (!invoice) return { kind: 'nothing', reason: 'the invoice is not in the mirror' };
  if (invoice.status !== 'paid') return { kind: 'nothing', reason: `the invoice is ${invoice.status}` };
  const lines = invoice.lines.map((line) => ({
    ...line,
    plan: planOf(catalog, [{ id: line.priceId, lookupKey: line.lookupKey, productPlan: line.productPlan }]),
  }));
  const planned = grantsOfInvoice(catalog, {
    id: request.sourceId,
    billingReason: invoice.billing_reason,
    lines,
  });
  if (planned.length === 0) return { kind: 'nothing', reason: 'no plan of the invoice grants credits' };
  const accountId = invoice.account_id;
  if (!accountId) return { kind: 'wait', reason: "the invoice's customer is not linked to an account" };
  return {
    kind: 'grants',
    grants: planned.map((grant) => ({
      accountId,
      creditType: grant.creditType,
      amount: grant.amount,
      expiresAt: grant.expiresAt,
      source: { kind: 'invoice', id: request.sourceId },
      reason: `paid invoice ${request.sourceId}`,
      rollover: grant.rollover,
    })),
  };
}

/** The credits a paid top-up checkout grants: what its metadata names, never expiring. */
export async function planTopUpGrant(
  client: Pick<pg.ClientBase, 'query'>,
  catalog: Catalog,
  request: GrantRequest,
): Promise<GrantPlan> {
  const { rows } = await client.query<{ account_id: string | null; top_up: string | null }>(
    `select account_id, data->'metadata'->>'${TOP_UP_METADATA_KEY}' as top_up from checkout_sessions
     where id = $1 and stripe_account = $2 and livemode = $3 and payment_status = 'paid'`,
    [request.sourceId, request.stripeAccount, request.livemode],
  );
  const session = rows[0];
  if (!session?.top_up) return { kind: 'nothing', reason: 'the checkout is not a paid top-up' };
  const topUp = parseTopUp(session.top_up);
  if (!topUp || catalog.features[topUp.creditType]?.type !== 'credits')
    return { kind: 'nothing', reason: `the top-up names no credits of the catalog: ${session.top_up}` };
  if (!session.account_id) return { kind: 'wait', reason: 'the checkout names no account' };
  return {
    kind: 'grants',
    grants: [
      {
        accountId: session.account_id,
        creditType: topUp.creditType,
        amount: topUp.amount,
        source: { kind: 'top_up', id: request.sourceId },
        reason: `top-up checkout ${request.sourceId}`,
      },
    ],
  };
}

/** `<credit type>:<amount>`, as checkout writes it. */
export function parseTopUp(value: string): { creditType: string; amount: number } | null {
  const match = /^([a-z][a-z0-9_]*):([1-9][0-9]{0,14})$/.exec(value);
  return match ? { creditType: match[1] as string, amount: Number(match[2]) } : null;
}

export const formatTopUp = (creditType: string, amount: number) => `${creditType}:${amount}`;
