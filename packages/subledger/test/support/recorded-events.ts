import { readFileSync } from 'node:fs';
import type { StripeObject } from '../../src/sync/envelope.ts';
import { REFERENCE, type ReferenceEvent } from './reference-objects.ts';

/**
 * Events built around real answers of Stripe, recorded by a billing library's tests
 * (`recorded/pay-rails/<test>/NN-METHOD-path.json`): each answer stands for the payload of the event
 * named beside it, in the order the test made them. The envelope (id, `created`, API version) is ours.
 */
export type RecordedStep = {
  file: string;
  type: string;
  /** An object the answer embeds (expanded), when that is the event's object. */
  field?: string;
};

export type RecordedStory = { test: string; steps: RecordedStep[] };

type Recording = { request: { body: string }; stripe_version: string; body: StripeObject };

const recording = (test: string, file: string): Recording =>
  JSON.parse(readFileSync(new URL(`recorded/pay-rails/${test}/${file}`, REFERENCE), 'utf8'));

/** The `expand[]` paths a recorded request asked for. */
const expandPaths = (body: string) =>
  [...new URLSearchParams(body)].filter(([name]) => name.startsWith('expand[')).map(([, path]) => path);

/**
 * An expanded field as an event carries it: an object becomes its id, a list of objects their ids, and
 * a field that is only there when asked for (it has no id, e.g. `customer.tax`) is left out.
 */
function collapse(holder: StripeObject, field: string): void {
  const value = holder[field];
  const idOf = (item: unknown) => (item as StripeObject | null)?.id;
  if (Array.isArray(value)) holder[field] = value.map((item) => idOf(item) ?? item);
  else if (value && typeof value === 'object')
    if (typeof idOf(value) === 'string') holder[field] = idOf(value);
    else delete holder[field];
}

/** Follows `path` through objects and lists and collapses its last field. */
function collapsePath(holder: unknown, path: string[]): void {
  if (Array.isArray(holder)) for (const item of holder) collapsePath(item, path);
  else if (holder && typeof holder === 'object') {
    const [field, ...rest] = path as [string, ...string[]];
    if (rest.length === 0) collapse(holder as StripeObject, field);
    else collapsePath((holder as StripeObject)[field], rest);
  }
}

/** The paths expanded inside `field`, from it. */
const pathsWithin = (paths: string[], field: string) =>
  paths.filter((path) => path.startsWith(`${field}.`)).map((path) => path.slice(field.length + 1));

/** The event object of a step: what Stripe answered, without what the request expanded. */
export function eventObjectOf(
  test: string,
  step: RecordedStep,
): { object: StripeObject; apiVersion: string } {
  const { request, body, stripe_version } = recording(test, step.file);
  const paths = expandPaths(request.body);
  // `expand[]=a.b` expands `a` too: of the answer itself, the first field of each path is collapsed.
  const [object, expanded] = step.field
    ? [body[step.field], pathsWithin(paths, step.field)]
    : [body, paths.map((path) => path.split('.')[0] as string)];
  const copy = structuredClone(object) as StripeObject;
  for (const path of expanded) collapsePath(copy, path.split('.'));
  return { object: copy, apiVersion: stripe_version };
}

export type RecordedEvent = {
  event: ReferenceEvent & { object: 'event' };
  /** How many events of the same object come before it: events of one round are delivered together. */
  round: number;
  /** The API version Stripe answered in. */
  recordedIn: string;
};

/**
 * Each story's steps as events in `apiVersion`, one second apart from the creation of its first object,
 * so that each is newer than the one before.
 */
export function recordedEvents(stories: readonly RecordedStory[], apiVersion: string): RecordedEvent[] {
  const seen = new Map<string, number>();
  let count = 0;
  return stories.flatMap(({ test, steps }) => {
    const objects = steps.map((step) => eventObjectOf(test, step));
    const start = Number(objects[0]?.object.created);
    return steps.map((step, index) => {
      const { object, apiVersion: recordedIn } = objects[index] as (typeof objects)[number];
      const round = seen.get(String(object.id)) ?? 0;
      seen.set(String(object.id), round + 1);
      const event = {
        id: `evt_recorded_${count++}`,
        object: 'event' as const,
        type: step.type,
        api_version: apiVersion,
        created: start + index,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object },
      };
      return { event, round, recordedIn };
    });
  });
}

/**
 * Three recorded tests, answered in 2026-03-25.dahlia, the newest version the recordings hold: a one-off
 * invoice paid, a subscription on trial, and one left incomplete by a card asking for authentication.
 */
export const RECORDED_STORIES: readonly RecordedStory[] = [
  {
    test: 'test_stripe_can_create_an_invoice',
    steps: [
      { file: '20-POST-v1_customers.json', type: 'customer.created' },
      { file: '22-POST-v1_customers_cus_UFHooUdesGozJh.json', type: 'customer.updated' },
      { file: '24-POST-v1_invoices.json', type: 'invoice.created' },
      { file: '25-POST-v1_invoices_in_1TGnFEKXBGcbgpbZ3irTL21r_pay.json', type: 'invoice.paid' },
    ],
  },
  {
    test: 'test_stripe_trial_period_options',
    steps: [
      { file: '10-POST-v1_customers.json', type: 'customer.created' },
      { file: '12-POST-v1_customers_cus_UFHolUcKiEPpti.json', type: 'customer.updated' },
      { file: '13-POST-v1_subscriptions.json', type: 'customer.subscription.created' },
    ],
  },
  {
    test: 'test_stripe_fails_when_subscribing_with_SCA_card',
    steps: [
      { file: '14-POST-v1_customers.json', type: 'customer.created' },
      { file: '16-POST-v1_customers_cus_UFHo6401omwF5E.json', type: 'customer.updated' },
      { file: '17-POST-v1_subscriptions.json', type: 'customer.subscription.created' },
      { file: '17-POST-v1_subscriptions.json', field: 'latest_invoice', type: 'invoice.created' },
      { file: '18-GET-v1_payment_intents_pi_3TGnF4KXBGcbgpbZ0JnTWfNF.json', type: 'payment_intent.created' },
    ],
  },
];
