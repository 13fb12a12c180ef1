import { z } from 'zod';
import { invalidState, parameterInvalid, parameterMissing } from '../core/errors.ts';
import { createdFilterParam, paginationParams } from '../core/list.ts';
import { bool, int, list, metadata, oneOf, str } from '../core/params.ts';
import type { Scope } from '../core/scope.ts';
import { recurrenceOf, recurringPrice, sameRecurrence } from './lines.ts';
import { boundary } from './periods.ts';
import { prorationBehaviorParam } from './subscription-params.ts';
import type { PhaseSpec } from './subscription-schedule-objects.ts';

/** Request parameters of the subscription schedule endpoints, and the phase rules Stripe applies. */
const timestamp = z.union([z.literal('now'), int()]);
const endBehaviorParam = oneOf(['release', 'cancel']);

const phaseItemParam = z.strictObject({
  price: str(),
  quantity: int({ min: 0 }).optional(),
  metadata: metadata().optional(),
});

const phaseParam = z.strictObject({
  items: list(phaseItemParam),
  start_date: timestamp.optional(),
  end_date: timestamp.optional(),
  /** Older API versions' way of giving a length: this many of the first price's intervals. */
  iterations: int({ min: 1 }).optional(),
  duration: z
    .strictObject({
      interval: oneOf(['day', 'week', 'month', 'year']),
      interval_count: int({ min: 1 }).optional(),
    })
    .optional(),
  proration_behavior: prorationBehaviorParam.optional(),
  metadata: metadata().optional(),
});

export type PhaseInput = z.output<typeof phaseParam>;

export const createScheduleParams = z.strictObject({
  from_subscription: str().optional(),
  customer: str().optional(),
  phases: list(phaseParam).optional(),
  start_date: timestamp.optional(),
  end_behavior: endBehaviorParam.optional(),
  metadata: metadata().optional(),
});

export const updateScheduleParams = z.strictObject({
  phases: list(phaseParam).optional(),
  end_behavior: endBehaviorParam.optional(),
  proration_behavior: prorationBehaviorParam.optional(),
  metadata: metadata().optional(),
});

export const cancelScheduleParams = z.strictObject({
  invoice_now: bool().optional(),
  prorate: bool().optional(),
});

export const releaseScheduleParams = z.strictObject({ preserve_cancel_date: bool().optional() });

export const listScheduleParams = z.strictObject({
  ...paginationParams,
  customer: z.string().optional(),
  created: createdFilterParam,
});

/** Where the phases must start: the current phase's start on an active schedule, `now` otherwise. */
export type PhaseFrame = { now: number; currentStart: number | null };

const at = (value: number | 'now', now: number) => (value === 'now' ? now : value);

/**
 * Checks `phases[]` as Stripe does and works out each phase's dates: phases follow one another
 * without gaps, each ends by `end_date`, `duration` or `iterations` (the last defaults to one interval of its price), and
 * an active schedule cannot move the start of its current phase.
 */
export function planPhases(scope: Scope, inputs: PhaseInput[], frame: PhaseFrame): PhaseSpec[] {
  if (inputs.length === 0) throw parameterMissing('phases');
  const specs: PhaseSpec[] = [];
  inputs.forEach((input, index) => {
    const param = `phases[${index}]`;
    const previous = specs[index - 1];
    const start = previous ? previous.end : firstStart(input, frame);
    if (previous && input.start_date !== undefined && at(input.start_date, frame.now) !== start)
      throw parameterInvalid(
        `${param}[start_date]`,
        `The start_date of phase ${index} must equal the end_date of the phase before it (${start}): phases must be contiguous.`,
      );
    const items = phaseItems(scope, input, param);
    const end = phaseEnd(input, inputs[index + 1], start, items[0]?.price, param, frame.now);
    if (index === 0 && frame.currentStart !== null && end <= frame.now)
      throw parameterInvalid(`${param}[end_date]`, 'The current phase must end in the future.');
    specs.push({
      items,
      start,
      end,
      prorationBehavior: input.proration_behavior ?? 'create_prorations',
      metadata: input.metadata ?? {},
    });
  });
  const currency = specs[0]?.items[0]?.price.currency;
  specs.forEach((spec, index) => {
    if (spec.items.some((item) => item.price.currency !== currency))
      throw parameterInvalid(
        `phases[${index}][items]`,
        'All phases of a schedule must use the same currency.',
      );
  });
  return specs;
}

function firstStart(input: PhaseInput, frame: PhaseFrame): number {
  if (frame.currentStart === null) {
    if (input.start_date === undefined) throw parameterMissing('phases[0][start_date]');
    return at(input.start_date, frame.now);
  }
  if (input.start_date !== undefined && at(input.start_date, frame.now) !== frame.currentStart)
    throw invalidState(
      `You can not modify the start date of the current phase (${frame.currentStart}).`,
      'phases[0][start_date]',
    );
  return frame.currentStart;
}

function phaseItems(scope: Scope, input: PhaseInput, param: string): PhaseSpec['items'] {
  if (input.items.length === 0) throw parameterMissing(`${param}[items]`);
  const items = input.items.map((item, index) => ({
    price: recurringPrice(scope, item.price, `${param}[items][${index}][price]`),
    quantity: item.quantity,
    metadata: item.metadata ?? {},
  }));
  const first = items[0]?.price;
  const seen = new Set<string>();
  for (const { price } of items) {
    if (seen.has(price.id))
      throw parameterInvalid(
        `${param}[items]`,
        `Cannot add multiple phase items with the same price: ${price.id}`,
      );
    seen.add(price.id);
    if (
      first &&
      (price.currency !== first.currency || !sameRecurrence(recurrenceOf(price), recurrenceOf(first)))
    )
      throw parameterInvalid(
        `${param}[items]`,
        'Currency and interval fields must match across all plans on this subscription.',
      );
  }
  return items;
}

function phaseEnd(
  input: PhaseInput,
  next: PhaseInput | undefined,
  start: number,
  price: PhaseSpec['items'][number]['price'] | undefined,
  param: string,
  now: number,
): number {
  const lengths = [input.end_date, input.iterations, input.duration].filter((value) => value !== undefined);
  if (lengths.length > 1)
    throw parameterInvalid(
      param,
      'You may only specify one of these parameters: duration, end_date, iterations.',
    );
  let end: number;
  if (input.end_date !== undefined) end = at(input.end_date, now);
  else if (input.duration !== undefined)
    end = boundary(
      start,
      { interval: input.duration.interval, intervalCount: input.duration.interval_count ?? 1 },
      1,
    );
  else if (input.iterations !== undefined || !next)
    end = boundary(
      start,
      price ? recurrenceOf(price) : { interval: 'month', intervalCount: 1 },
      input.iterations ?? 1,
    );
  else if (next.start_date !== undefined && next.start_date !== 'now') end = next.start_date;
  else throw parameterMissing(`${param}[end_date]`);
  if (end <= start)
    throw parameterInvalid(`${param}[end_date]`, 'The end_date of a phase must be after its start_date.');
  return end;
}
