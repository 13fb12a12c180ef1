import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EVENT_HANDLERS, NOT_MIRRORED } from '../src/sync/handlers.ts';
import { isKindName, type KindName } from '../src/sync/kinds.ts';
import { REFERENCE } from './support/reference-objects.ts';

// Which event types carry which object, from Stripe's own definitions: the stripe SDK declares one
// interface per event type, generated from Stripe's OpenAPI document, with its `data.object`'s type. The
// reference OpenAPI document (an older API version) lists the types but not the objects they carry.
const SDK_EVENTS = new URL('./resources/Events.d.ts', import.meta.resolve('stripe'));
const REFERENCE_DOCUMENT = new URL('openapi/spec3.2024-04-10.json', REFERENCE);

/**
 * `export interface InvoicePaidEvent extends EventBase { type: 'invoice.paid'; data: …Data; }`, then
 * its namespace, whose `Data` names the object: `object: Invoice;`.
 */
const EVENT_DECLARATION = new RegExp(
  [
    String.raw`export interface (\w+) extends EventBase \{\s*type: '([^']+)';\s*data: \1\.Data;\s*\}\s*`,
    String.raw`export declare namespace \1 \{\s*interface Data extends Event\.Data \{\s*object: ([\w.]+);`,
  ].join(''),
  'g',
);

/** An SDK type name as Stripe's `object` value: `Checkout.Session` is `checkout.session`. */
const objectValueOf = (typeName: string) =>
  typeName
    .split('.')
    .map((part) => part.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase())
    .join('.');

/** Every event type Stripe defines, with the `object` value of the object it carries. */
function stripeEventObjects(): Map<string, string> {
  const declarations = readFileSync(SDK_EVENTS, 'utf8');
  const found = new Map<string, string>();
  for (const [, , type, objectType] of declarations.matchAll(EVENT_DECLARATION))
    found.set(type as string, objectValueOf(objectType as string));
  const declared = declarations.match(/ extends EventBase \{/g)?.length ?? 0;
  assert.equal(found.size, declared, 'an event declaration of a shape this test does not read');
  return found;
}

/** The event types a webhook endpoint may subscribe to, in the reference OpenAPI document. */
function referenceEventTypes(): string[] {
  const document = JSON.parse(readFileSync(REFERENCE_DOCUMENT, 'utf8'));
  const form =
    document.paths['/v1/webhook_endpoints'].post.requestBody.content['application/x-www-form-urlencoded'];
  return (form.schema.properties.enabled_events.items.enum as string[]).filter((type) => type !== '*');
}

const eventObjects = stripeEventObjects();

test('Stripe’s event definitions are read whole: every type the reference OpenAPI document lists is among them', () => {
  const types = referenceEventTypes();
  assert.ok(types.length > 200, `only ${types.length} event types in the reference document`);
  assert.deepEqual(
    types.filter((type) => !eventObjects.has(type)),
    [],
  );
  assert.equal(eventObjects.get('checkout.session.completed'), 'checkout.session');
  assert.equal(
    eventObjects.get('entitlements.active_entitlement_summary.updated'),
    'entitlements.active_entitlement_summary',
  );
});

test('every Stripe event type carrying an object the mirror keeps is handled, or says why not', () => {
  const unhandled: string[] = [];
  const mirrored = [...eventObjects].filter((entry): entry is [string, KindName] => isKindName(entry[1]));
  for (const [type, kind] of mirrored)
    if (EVENT_HANDLERS[type]?.kind !== kind && !(type in NOT_MIRRORED)) unhandled.push(`${type} (${kind})`);
  assert.deepEqual(unhandled, []);
  assert.ok(mirrored.length >= 50, `only ${mirrored.length} event types carry a mirrored object`);
});

test('each handled or passed-over type is one Stripe defines, carrying an object of that kind', () => {
  const wrong = Object.entries(EVENT_HANDLERS)
    .filter(([type, handling]) => eventObjects.get(type) !== handling.kind)
    .map(([type, handling]) => `${type}: handled as ${handling.kind}, carries ${eventObjects.get(type)}`);
  for (const type of Object.keys(NOT_MIRRORED))
    if (!isKindName(eventObjects.get(type))) wrong.push(`${type}: passed over, carries no mirrored object`);
  assert.deepEqual(wrong, []);
});
