import { meterUsage, priceTiers, productTable, requirePrice } from '../catalog/index.ts';
import { parameterInvalid } from '../core/errors.ts';
import type { Scope } from '../core/scope.ts';
import { type LineSubject, recurringLine, remainingTimeLine, trialLine, unusedTimeLine } from './describe.ts';
import type { LineSpec } from './invoice-objects.ts';
import type { Interval, Period, Recurrence } from './periods.ts';
import { amountFor, unitAmountDecimal } from './pricing.ts';
import { prorate } from './proration.ts';
import { idOf, type WirePrice, type WireSubscriptionItem } from './store.ts';

/** Prices as subscriptions see them: recurring ones, with their amounts and descriptions. */
export function recurringPrice(scope: Scope, id: string, param: string): WirePrice {
  const price = requirePrice(scope, id, param);
  if (!price.recurring)
    throw parameterInvalid(
      param,
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
    );
  if (!price.active)
    throw parameterInvalid(param, `The price specified is inactive. This field only accepts active prices.`);
  return price;
}

export function recurrenceOf(price: WirePrice): Recurrence {
  return {
    interval: (price.recurring?.interval ?? 'month') as Interval,
    intervalCount: price.recurring?.interval_count ?? 1,
  };
}

export const sameRecurrence = (a: Recurrence, b: Recurrence) =>
  a.interval === b.interval && a.intervalCount === b.intervalCount;

export const productIdOf = (price: WirePrice): string => idOf(price.product) ?? '';

const isMetered = (price: WirePrice) => price.recurring?.usage_type === 'metered';

/** Licensed prices bill a period in advance; metered ones bill its usage once it is over. */
export const billedInAdvance = (item: { price: WirePrice }) => !isMetered(item.price);

/** What one period of the price costs at this quantity (metered prices bill usage, not seats). */
export function periodAmount(scope: Scope, price: WirePrice, quantity: number): number {
  if (isMetered(price)) return 0;
  return amountFor(price, priceTiers(scope, price.id), quantity);
}

function subjectOf(scope: Scope, price: WirePrice, quantity: number): LineSubject {
  const product = productTable(scope).get(productIdOf(price));
  return {
    productName: product?.name ?? productIdOf(price),
    unitLabel: product?.unit_label ?? null,
    quantity,
  };
}

export type ItemContext = {
  subscription: string;
  item: string;
  price: WirePrice;
  quantity: number;
};

const baseSpec = (context: ItemContext, period: Period): Omit<LineSpec, 'amount' | 'description'> => ({
  currency: context.price.currency,
  period,
  quantity: context.quantity,
  price: { id: context.price.id, product: productIdOf(context.price) },
  unitAmountDecimal: context.price.unit_amount_decimal,
  proration: false,
  subscription: context.subscription,
  subscriptionItem: context.item,
  invoiceItem: null,
  creditedItems: null,
  discountable: true,
  metadata: {},
});

/** The line billing a subscription item for a whole period, in advance. */
export function periodLine(scope: Scope, context: ItemContext, period: Period): LineSpec {
  const amount = periodAmount(scope, context.price, context.quantity);
  const unit = unitAmountDecimal(context.price, amount, context.quantity);
  const subject = subjectOf(scope, context.price, context.quantity);
  const perUnit = context.price.billing_scheme === 'tiered' ? null : context.price.unit_amount;
  return {
    ...baseSpec(context, period),
    amount,
    unitAmountDecimal: unit,
    description: recurringLine(subject, perUnit, context.price.currency, recurrenceOf(context.price)),
  };
}

/** The $0 line a trial period shows. */
export function trialPeriodLine(scope: Scope, context: ItemContext, period: Period): LineSpec {
  return {
    ...baseSpec(context, period),
    amount: 0,
    unitAmountDecimal: '0',
    description: trialLine(subjectOf(scope, context.price, context.quantity)),
  };
}

/** A first period shorter than a whole one (a future `billing_cycle_anchor`), billed pro rata. */
export function partialPeriodLine(
  scope: Scope,
  context: ItemContext,
  period: Period,
  whole: Period,
): LineSpec {
  const full = periodAmount(scope, context.price, context.quantity);
  const amount = prorate(null, { amount: full, period: whole }, period.start).debit;
  return {
    ...baseSpec(context, period),
    amount,
    proration: true,
    unitAmountDecimal: null,
    description: remainingTimeLine(subjectOf(scope, context.price, context.quantity), period.start),
  };
}

/**
 * A metered item's usage over the period just ended, billed in arrears: the meter's aggregate for the
 * customer over the period, priced like a quantity. `null` for licensed items.
 */
export function usageLine(
  scope: Scope,
  context: ItemContext,
  customerId: string,
  period: Period,
): LineSpec | null {
  const meter = context.price.recurring?.meter;
  if (!isMetered(context.price) || !meter) return null;
  const usage = meterUsage(scope, meter, customerId, period.start, period.end);
  const amount = amountFor(context.price, priceTiers(scope, context.price.id), usage);
  const subject = subjectOf(scope, context.price, usage);
  const perUnit = context.price.billing_scheme === 'tiered' ? null : context.price.unit_amount;
  return {
    ...baseSpec({ ...context, quantity: usage }, period),
    amount,
    unitAmountDecimal: unitAmountDecimal(context.price, amount, usage),
    description: recurringLine(subject, perUnit, context.price.currency, recurrenceOf(context.price)),
  };
}

/** A one-off price billed with a subscription's invoice (`add_invoice_items`): named after its product. */
export function oneTimeLine(
  scope: Scope,
  price: WirePrice,
  quantity: number,
  subscription: string,
  period: Period,
): LineSpec {
  const amount = amountFor(price, priceTiers(scope, price.id), quantity);
  return {
    ...baseSpec({ subscription, item: '', price, quantity }, period),
    subscriptionItem: null,
    amount,
    description: subjectOf(scope, price, quantity).productName,
  };
}

export type ItemState = { context: ItemContext; period: Period };

/**
 * The proration lines for an item changing at `at`: credit for the unused time on `before`, charge
 * for the remaining time on `after`. Each side is absent when the item did not exist before, or no
 * longer exists after.
 */
export function prorationLines(
  scope: Scope,
  before: ItemState | null,
  after: ItemState | null,
  at: number,
): LineSpec[] {
  const amounts = prorate(
    before && {
      amount: periodAmount(scope, before.context.price, before.context.quantity),
      period: before.period,
    },
    after && {
      amount: periodAmount(scope, after.context.price, after.context.quantity),
      period: after.period,
    },
    at,
  );
  const lines: LineSpec[] = [];
  if (before && amounts.credit !== 0)
    lines.push({
      ...baseSpec(before.context, { start: at, end: before.period.end }),
      amount: amounts.credit,
      proration: true,
      discountable: false,
      unitAmountDecimal: null,
      description: unusedTimeLine(subjectOf(scope, before.context.price, before.context.quantity), at),
    });
  if (after && amounts.debit !== 0)
    lines.push({
      ...baseSpec(after.context, { start: at, end: after.period.end }),
      amount: amounts.debit,
      proration: true,
      discountable: false,
      unitAmountDecimal: null,
      description: remainingTimeLine(subjectOf(scope, after.context.price, after.context.quantity), at),
    });
  return lines;
}

export function contextOf(item: WireSubscriptionItem): ItemContext {
  return { subscription: item.subscription, item: item.id, price: item.price, quantity: item.quantity ?? 1 };
}

export const periodOf = (item: WireSubscriptionItem): Period => ({
  start: item.current_period_start,
  end: item.current_period_end,
});
