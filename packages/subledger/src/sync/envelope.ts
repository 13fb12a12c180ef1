import { z } from 'zod';
import { PLATFORM } from '../store/schema/mirror.ts';

/** What the inbox keeps of a verified event beside its payload: the columns workers claim and order by. */
export type InboxEvent = {
  id: string;
  type: string;
  apiVersion: string | null;
  livemode: boolean;
  stripeAccount: string;
  created: number;
  objectType: string | null;
  objectId: string | null;
  serialKey: string;
  /** The event as received, as JSON text: the inbox keeps it without parsing it again. */
  json: string;
};

/**
 * What is read of an event to store it. Unknown keys are left out of the parsed copy rather than copied
 * (`z.object` strips them): the payload itself is kept as the text it came in.
 */
const eventSchema = z.object({
  id: z.string().regex(/^evt_\w+$/),
  object: z.literal('event'),
  type: z.string().min(1),
  api_version: z.string().nullish(),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  /** A Connect event names its connected account; the mirror keys rows by it, so it must be one. */
  account: z
    .string()
    .regex(/^acct_\w+$/)
    .nullish(),
  data: z.object({
    object: z.object({
      id: z.string().optional(),
      object: z.string().optional(),
      customer: z.unknown().optional(),
    }),
  }),
});

export type StripeObject = Record<string, unknown> & { id?: string; object?: string };

/** A stored event's payload, as workers read it back. */
export type StripeEventPayload = z.infer<typeof eventSchema> & { data: { object: StripeObject } };

/** A body that parsed as JSON but is not a Stripe event: answered 400, never stored. */
export class NotAnEventError extends Error {
  readonly code = 'invalid_event';
}

/**
 * Reads the columns of an event; throws `NotAnEventError` for anything that is not one. `json` is the
 * text `body` was parsed from, when there is one.
 */
export function toInboxEvent(body: unknown, json?: string): InboxEvent {
  const parsed = eventSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NotAnEventError(
      `not a Stripe event: ${issue?.path.join('.') || 'body'} ${issue?.message ?? ''}`,
    );
  }
  const event = parsed.data;
  const object = event.data.object as StripeObject;
  const stripeAccount = event.account ?? PLATFORM;
  return {
    id: event.id,
    type: event.type,
    apiVersion: event.api_version ?? null,
    livemode: event.livemode,
    stripeAccount,
    created: event.created,
    objectType: object.object ?? null,
    objectId: objectIdOf(object),
    serialKey: `${stripeAccount}/${serialIdOf(object) ?? event.id}`,
    json: json ?? JSON.stringify(body),
  };
}

/** The id a mirror row is keyed by; an entitlement summary has none of its own and is keyed by customer. */
export function objectIdOf(object: StripeObject): string | null {
  if (object.object === 'entitlements.active_entitlement_summary') return idOf(object.customer);
  return typeof object.id === 'string' ? object.id : null;
}

/** Events about one customer's things are applied one at a time; catalog objects serialise on themselves. */
function serialIdOf(object: StripeObject): string | null {
  if (object.object === 'customer') return objectIdOf(object);
  return idOf(object.customer) ?? objectIdOf(object);
}

/** An id field that may also arrive expanded into an object. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string')
    return (value as { id: string }).id;
  return null;
}
