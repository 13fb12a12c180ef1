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
 * The most characters an id or an event type may have. Stripe's ids never exceed 255 characters (its
 * documented limit), and its event types are far shorter. Both go into text columns that btree indexes
 * cover (the inbox's id and object id, the mirror's keys), whose rows Postgres limits to about 2.7 kB:
 * a longer value would be refused by the insert (54000), for ever, instead of here with a 400.
 */
export const MAX_ID_LENGTH = 255;

/**
 * Text that goes into a column of its own: Postgres' text cannot hold \u0000 (22021, refused by the
 * insert on every delivery), so it is refused here. The payload is kept as `json`, which can.
 */
const columnText = z
  .string()
  .max(MAX_ID_LENGTH)
  .refine((text) => !text.includes('\u0000'), 'must not contain \\u0000');

/** An id as the columns keep it, given plainly or expanded into an object (`idOf`). */
const storableId = (value: unknown) => {
  const id = idOf(value);
  return id === null || columnText.safeParse(id).success;
};

/** A Stripe event id. */
export const EVENT_ID_PATTERN = /^evt_\w+$/;

/** A connected account's id, as its `Stripe-Account` header and a Connect event name it. */
export const CONNECTED_ACCOUNT_ID_PATTERN = /^acct_[A-Za-z0-9]+$/;

/**
 * What is read of an event to store it. Unknown keys are left out of the parsed copy rather than copied
 * (`z.object` strips them): the payload itself is kept as the text it came in.
 */
const eventSchema = z.object({
  id: columnText.regex(EVENT_ID_PATTERN),
  object: z.literal('event'),
  type: columnText.min(1),
  api_version: columnText.nullish(),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  /** A Connect event names its connected account; the mirror keys rows by it, so it must be one. */
  account: columnText.regex(CONNECTED_ACCOUNT_ID_PATTERN).nullish(),
  data: z.object({
    object: z.object({
      id: columnText.optional(),
      object: columnText.optional(),
      customer: z
        .unknown()
        .optional()
        .refine(storableId, `must be an id of at most ${MAX_ID_LENGTH} characters, without \\u0000`),
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
