import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { API_VERSION } from '../src/stripe/index.ts';
import type { KindName } from '../src/sync/kinds.ts';
import { RECORDED_STORIES, recordedEvents } from './support/recorded-events.ts';
import {
  itemRows,
  latestStates,
  type MirroredObject,
  mirroredAs,
  mirrorRow,
  type ReferenceEvent,
  referenceEvents,
  seedStripe,
  stripeAnswer,
} from './support/reference-objects.ts';
import { type Stack, startStack } from './support/stack.ts';
import { type Answer, webhookClient } from './support/webhook-client.ts';

const files = referenceEvents();
// The stack holds a test-mode key: a live-mode event's object cannot be read back (see the last test).
const events = files.filter(({ event }) => event.livemode === false);
const liveEvents = files.filter(({ event }) => event.livemode !== false);
const distinctIds = new Set(events.map(({ event }) => event.id));
// Each file once more under an id of its own, so that every payload goes through the worker.
const copies = events.map(({ event }, index) => ({ ...event, id: `evt_reference_copy_${index}` }));

const at = (seconds: number) => new Date(seconds * 1000);
type RowCase = [kind: KindName, id: string, columns: Record<string, unknown>];

// What each object the reference events name must be in the mirror, from the object its newest event
// carries (or its deletion). A row Stripe answers 404 for keeps no more than that it is gone: the
// summary and `su_00000000000000` are not in Stripe (see `seedStripe`).
// biome-ignore format: one object per line
const REFERENCE_ROWS: RowCase[] = [
  ['customer', 'cus_00000000000000', { deleted: false, email: null, name: null, createdAt: at(1648320107) }],
  ['customer', 'cus_IhGfebO16cMIGN', { deleted: true, email: null, name: null, createdAt: null }],
  ['product', 'prod_00000000000000', { deleted: false, active: true, name: 'myproduct' }],
  ['product', 'prod_IsRLOp58Z7V4XN', { deleted: false, active: true, name: 'Pro tier' }],
  ['product', 'prod_JdJ6Wt7rsz4EPJ', { deleted: true, active: false, name: null }],
  ['price', 'price_000000000000000000000000', { deleted: false, productId: 'prod_00000000000000', active: true, lookupKey: null, type: 'recurring', currency: 'usd', unitAmount: 1500, recurringInterval: 'month' }],
  ['price', 'price_1IDQm5JDPojXS6LNM31hxKzp', { deleted: false, productId: 'prod_IsRLOp58Z7V4XN', active: true, lookupKey: null, type: 'recurring', currency: 'usd', unitAmount: 2500, recurringInterval: 'month' }],
  ['price', 'price_1J02UOJDPojXS6LNDao8fiaO', { deleted: true, active: false, unitAmount: null }],
  ['price', 'plan_00000000000000', { deleted: true, active: false, unitAmount: null }],
  ['subscription', 'sub_000000000000000000000000', { deleted: false, customerId: 'cus_00000000000000', status: 'active', currentPeriodEndAt: at(1650998510), cancelAtPeriodEnd: false, trialEndAt: null }],
  ['subscription', 'su_00000000000000', { deleted: true, customerId: null, status: null, currentPeriodEndAt: null }],
  ['subscription', 'sub_JdIzvfy6o5GZRd', { deleted: false, customerId: 'cus_IhGfebO16cMIGN', status: 'canceled', currentPeriodEndAt: at(1625740918), cancelAtPeriodEnd: false, trialEndAt: null }],
  ['subscription', 'sub_JLEPMp81LApOJl', { deleted: false, customerId: 'cus_IhGfebO16cMIGN', status: 'active', currentPeriodEndAt: at(1621572344), cancelAtPeriodEnd: false, trialEndAt: null }],
  ['invoice', 'in_000000000000000000000000', { deleted: false, customerId: 'cus_00000000000000', subscriptionId: 'sub_000000000000000000000000', status: 'draft', billingReason: 'subscription_create', currency: 'usd', amountDue: 1500, amountPaid: 0, periodEndAt: at(1648320110) }],
  ['invoice', 'in_1KJdKkJDPojXS6LNSwSWkZSN', { deleted: false, customerId: 'cus_J7Mkgr8mvbl1eK', subscriptionId: 'sub_K4J0aB2bmSyb6b', status: 'open', billingReason: 'subscription_cycle', currency: 'usd', amountDue: 0, amountPaid: 0, periodEndAt: at(1642595428) }],
  ['invoice', 'in_1KJqKBJDPojXS6LNJbvLUgEy', { deleted: false, customerId: 'cus_JsuO3bmrj0QlAw', subscriptionId: 'sub_JsuPyCPhXWfZar', status: 'void', billingReason: 'subscription_cycle', currency: 'usd', amountDue: 0, amountPaid: 0, periodEndAt: at(1642645280) }],
  ['invoice', 'in_1KJrLsJDPojXS6LN8xJ2QLQt', { deleted: false, customerId: 'cus_JVhbiWW9p3F6wq', subscriptionId: 'sub_JW4ilEI1mm5j4X', status: 'draft', billingReason: 'subscription_cycle', currency: 'usd', amountDue: 0, amountPaid: 0, periodEndAt: at(1642649352) }],
  ['invoice', 'in_xyz', { deleted: true, status: null }],
  ['invoice_payment', 'inpay_1M3USa2eZvKYlo2CBjuwbq0N', { deleted: false, invoiceId: 'in_103Q0w2eZvKYlo2C5PYwf6Wf', status: 'paid', amountPaid: 2000 }],
  ['payment_intent', 'pi_000000000000000000000000', { deleted: false, customerId: null, status: 'succeeded', amount: 2000, currency: 'usd' }],
  ['payment_intent', 'pi_00000000000000', { deleted: false, customerId: 'cus_00000000000000', status: 'processing', amount: 900, currency: 'eur' }],
  ['payment_intent', 'pi_1IqxJOJDPojXS6LN9uOebAea', { deleted: false, customerId: null, status: 'requires_payment_method', amount: 1000, currency: 'usd' }],
  ['checkout.session', 'cs_test_0000000000000000000000000000000000000000000000000000000000', { deleted: false, customerId: 'cus_00000000000000', status: 'complete', mode: 'payment', paymentStatus: 'paid', subscriptionId: null, accountId: null }],
  ['checkout.session', 'cs_00000000000000', { deleted: false, customerId: null, status: null, mode: 'setup', paymentStatus: 'no_payment_required', subscriptionId: null, accountId: null }],
  ['entitlements.active_entitlement_summary', 'cus_Sll319ReSxCmEi', { deleted: true, featureLookupKeys: [] }],
];

// biome-ignore format: one subscription per line
const REFERENCE_ITEMS: [subscription: string, items: [string, string, number][]][] = [
  ['sub_000000000000000000000000', [['si_00000000000000', 'price_000000000000000000000000', 1]]],
  ['sub_JdIzvfy6o5GZRd', [['si_JdIzi4Tn5jV9PD', 'price_1IDQm5JDPojXS6LNM31hxKzp', 1]]],
  ['sub_JLEPMp81LApOJl', [['si_JLEPdb3X81qQ9L', 'price_1IDQm5JDPojXS6LNM31hxKzp', 1]]],
];

let stack: Stack;
const client = webhookClient(() => stack);
const delivered: { asIs: Answer[]; copies: Answer[]; claimedTogether: number } = {
  asIs: [],
  copies: [],
  claimedTogether: 0,
};

before(async () => {
  stack = await startStack({ workers: false });
  seedStripe(stack.emulator.emulator, latestStates(events));
  // As delivered: the files reuse a few ids (the stripe-ruby-mock ones are zeroed), so most are duplicates.
  for (const { event } of events) delivered.asIs.push(await client.deliver(event));
  for (const copy of copies) delivered.copies.push(await client.deliver(copy));
  // One batch plans all of an object's events together, so each event's outcome is exact.
  delivered.claimedTogether = (await stack.subledger.sync.worker.processBatch()).claimed;
  await stack.subledger.startWorkers();
  await stack.settle(25_000);
});
after(() => stack.close());

/**
 * What the engine makes of a reference event: one about an object the mirror does not keep is ignored;
 * one about an object it keeps is read from Stripe, its payload being in another API version.
 */
const expectedOutcome = (event: ReferenceEvent) => (mirroredAs(event.data.object) ? 'refetched' : 'ignored');

const pick = (row: Record<string, unknown> | undefined, keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, row?.[key]]));

test('every reference event file is acknowledged, then settled as its object and API version call for', async (t) => {
  assert.ok(files.length >= 150, `only ${files.length} reference event files found`);
  assert.deepEqual(
    events.filter(({ event }) => event.api_version === API_VERSION).map(({ file }) => file),
    [],
    'a reference event in the engine’s own API version: its payload is applied, not refetched',
  );
  assert.deepEqual(
    delivered.asIs.filter((answer) => answer.status !== 200),
    [],
  );
  assert.equal(delivered.asIs.filter((answer) => !answer.body.duplicate).length, distinctIds.size);
  assert.deepEqual(
    delivered.copies.filter((answer) => answer.status !== 200 || answer.body.duplicate),
    [],
  );
  assert.equal(delivered.claimedTogether, distinctIds.size + copies.length);

  // Of the files sharing an id, the first delivered is the one stored.
  const expected = new Map<string, { file: string; outcome: string }>();
  for (const { file, event } of events)
    if (!expected.has(event.id)) expected.set(event.id, { file, outcome: expectedOutcome(event) });
  for (const [index, copy] of copies.entries())
    expected.set(copy.id, { file: events[index]?.file as string, outcome: expectedOutcome(copy) });
  const { rows } = await stack.database.pool.query<{
    id: string;
    type: string;
    status: string;
    outcome: string;
  }>('select id, type, status, outcome from stripe_events');
  assert.equal(rows.length, expected.size);
  const wrong = rows
    .filter((row) => row.status !== 'processed' || row.outcome !== expected.get(row.id)?.outcome)
    .map((row) => {
      const { file, outcome } = expected.get(row.id) ?? {};
      return `${file} (${row.id}): ${row.status} ${row.outcome}, expected processed ${outcome}`;
    });
  assert.deepEqual(wrong, []);

  const types = new Set(events.map(({ event }) => event.type));
  const kept = new Set(rows.filter((row) => row.outcome !== 'ignored').map((row) => row.type));
  const ignored = [...types].filter((type) => !kept.has(type));
  const outcomes = new Map<string, number>();
  for (const row of rows) outcomes.set(row.outcome, (outcomes.get(row.outcome) ?? 0) + 1);
  t.diagnostic(
    `${files.length} files, ${distinctIds.size} distinct ids, ${types.size} types (${kept.size} handled); outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ignored types: ${ignored.sort().join(' ')}`,
  );
});

test('each object the reference events name is mirrored as Stripe answers for it, with its typed columns', async () => {
  const named = latestStates(events).map(({ kind, id }) => `${kind} ${id}`);
  assert.deepEqual(REFERENCE_ROWS.map(([kind, id]) => `${kind} ${id}`).sort(), named.sort());
  const actual: unknown[] = [];
  const expected: unknown[] = [];
  for (const [kind, id, columns] of REFERENCE_ROWS) {
    const object: MirroredObject = { kind, id };
    const row = await mirrorRow(stack.database.db, object);
    const answer = await stripeAnswer(stack.emulator.url, object);
    // A deleted object is gone from Stripe (404); any other one is mirrored exactly as Stripe answers it.
    const data = columns.deleted ? answer.status : answer.status === 200 && row?.data;
    actual.push({ kind, id, data, ...pick(row, ['source', ...Object.keys(columns)]) });
    expected.push({ kind, id, data: columns.deleted ? 404 : answer.body, source: 'fetch', ...columns });
  }
  assert.deepEqual(actual, expected);
  for (const [subscription, items] of REFERENCE_ITEMS)
    assert.deepEqual(await itemRows(stack.database.db, subscription), items, subscription);
});

// What the recorded objects must be in the mirror once their events are applied.
// biome-ignore format: one object per line
const RECORDED_ROWS: RowCase[] = [
  ['customer', 'cus_UFHooUdesGozJh', { email: 'stripe@example.org', name: 'Stripe User', createdAt: at(1774905671) }],
  ['customer', 'cus_UFHolUcKiEPpti', { email: 'stripe@example.org', name: 'Stripe User', createdAt: at(1774905675) }],
  ['customer', 'cus_UFHo6401omwF5E', { email: 'stripe@example.org', name: 'Stripe User', createdAt: at(1774905660) }],
  ['invoice', 'in_1TGnFEKXBGcbgpbZ3irTL21r', { customerId: 'cus_UFHooUdesGozJh', subscriptionId: null, status: 'paid', billingReason: 'manual', currency: 'usd', amountDue: 1000, amountPaid: 1000, periodEndAt: at(1774905672) }],
  ['invoice', 'in_1TGnF3KXBGcbgpbZW1e7VW0R', { customerId: 'cus_UFHo6401omwF5E', subscriptionId: 'sub_1TGnF3KXBGcbgpbZ9Jnx79C5', status: 'open', billingReason: 'subscription_create', currency: 'usd', amountDue: 2500, amountPaid: 0, periodEndAt: at(1774905661) }],
  ['subscription', 'sub_1TGnFJKXBGcbgpbZqZC2HAM0', { customerId: 'cus_UFHolUcKiEPpti', status: 'trialing', currentPeriodEndAt: at(1776201677), cancelAtPeriodEnd: false, trialEndAt: at(1776201677) }],
  ['subscription', 'sub_1TGnF3KXBGcbgpbZ9Jnx79C5', { customerId: 'cus_UFHo6401omwF5E', status: 'incomplete', currentPeriodEndAt: at(1777584061), cancelAtPeriodEnd: false, trialEndAt: null }],
  ['payment_intent', 'pi_3TGnF4KXBGcbgpbZ0JnTWfNF', { customerId: 'cus_UFHo6401omwF5E', status: 'requires_action', amount: 2500, currency: 'usd' }],
];

// biome-ignore format: one subscription per line
const RECORDED_ITEMS: [subscription: string, items: [string, string, number][]][] = [
  ['sub_1TGnFJKXBGcbgpbZqZC2HAM0', [['si_UFHoiuEagRdBB5', 'small-monthly', 1]]],
  ['sub_1TGnF3KXBGcbgpbZ9Jnx79C5', [['si_UFHo6hFKZVZiZb', 'small-monthly', 1]]],
];

test('events in the engine’s API version carrying objects Stripe answered are applied as they are', async (t) => {
  const recorded = recordedEvents(RECORDED_STORIES, API_VERSION);
  t.diagnostic(
    `objects answered in ${[...new Set(recorded.map((step) => step.recordedIn))].join(', ')}, sent as ${API_VERSION}`,
  );
  const rounds = Math.max(...recorded.map((step) => step.round)) + 1;
  for (let round = 0; round < rounds; round++) {
    for (const { event } of recorded.filter((step) => step.round === round))
      assert.equal((await client.deliver(event)).status, 200, event.id);
    await stack.settle();
  }
  const ids = recorded.map(({ event }) => event.id);
  const { rows } = await stack.database.pool.query<{ id: string; outcome: string }>(
    'select id, outcome from stripe_events where id = any($1)',
    [ids],
  );
  assert.deepEqual(
    Object.fromEntries(rows.map((row) => [row.id, row.outcome])),
    Object.fromEntries(ids.map((id) => [id, 'applied'])),
  );

  // Each object's row is its last event's object, word for word.
  const last = new Map(recorded.map(({ event }) => [`${mirroredAs(event.data.object)?.id}`, event]));
  assert.deepEqual(RECORDED_ROWS.map(([, id]) => id).sort(), [...last.keys()].sort());
  for (const [kind, id, columns] of RECORDED_ROWS) {
    const row = await mirrorRow(stack.database.db, { kind, id });
    const event = last.get(id) as ReferenceEvent;
    assert.deepEqual(
      { data: row?.data, ...pick(row, ['source', 'lastEventId', 'deleted', ...Object.keys(columns)]) },
      { data: event.data.object, source: 'event', lastEventId: event.id, deleted: false, ...columns },
      `${kind} ${id}`,
    );
  }
  for (const [subscription, items] of RECORDED_ITEMS)
    assert.deepEqual(await itemRows(stack.database.db, subscription), items, subscription);
});

async function waitFor(condition: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a live-mode event on a test-mode deployment is settled unfetchable and does not block its customer', async () => {
  assert.deepEqual(
    liveEvents.map(({ file }) => file),
    ['sync-engine/checkout_session_completed.json'],
  );
  const live = liveEvents[0]?.event as ReferenceEvent;
  const customer = live.data.object.customer as string;
  // A test-mode event about the same customer, newer than anything the mirror holds, in an old version.
  const neighbour = {
    ...(events.find(({ file }) => file === 'sync-engine/customer_updated.json')?.event as ReferenceEvent),
    id: 'evt_reference_neighbour',
    created: Math.floor(Date.now() / 1000) + 60,
  };
  // Signed by the deployment's live endpoint: a test endpoint's secret cannot vouch for a live event.
  const payload = JSON.stringify(live);
  const liveSignature = client.sign(payload, { secret: 'whsec_reference_live' });
  const secrets = stack.subledger.config.webhookSecrets;
  secrets.push({ secret: 'whsec_reference_live', livemode: true });
  assert.equal((await client.post(payload, { 'stripe-signature': liveSignature })).status, 200);
  secrets.pop();
  assert.equal((await client.deliver(neighbour)).status, 200);
  const pending = async () =>
    Number(
      (
        await stack.database.pool.query(
          `select count(*) as n from stripe_events where id = any($1) and status = 'pending'`,
          [[live.id, neighbour.id]],
        )
      ).rows[0].n,
    );
  await waitFor(async () => (await pending()) === 0, 'the worker');
  await stack.subledger.sync.refetch(`platform/${customer}`);
  const left = await stack.database.pool.query('select object_id from sync_refetches where serial_key = $1', [
    `platform/${customer}`,
  ]);
  assert.deepEqual(left.rows, []);
  const outcome = await stack.database.pool.query('select outcome from stripe_events where id = $1', [
    live.id,
  ]);
  assert.equal(outcome.rows[0]?.outcome, 'unfetchable');
  await stack.settle();
});
