import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Stripe from 'stripe';
import { EVENT_HANDLERS } from '../src/sync/handlers.ts';
import { type Stack, startStack } from './support/stack.ts';

/** Real webhook events (see shared/stripe-reference/README.md): two collections, mostly old API versions. */
const EVENTS = new URL('../../../../shared/stripe-reference/events/', import.meta.url);

type ReferenceEvent = { id: string; type: string; data: { object: { object?: string } } } & Record<
  string,
  unknown
>;

const files = readdirSync(EVENTS, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .sort();
const all = files.map((file) => ({
  file,
  event: JSON.parse(readFileSync(new URL(file, EVENTS), 'utf8')) as ReferenceEvent,
}));
// The stack holds a test-mode key: a live-mode event's object cannot be read back (see the last test).
const events = all.filter(({ event }) => event.livemode === false);
const liveEvents = all.filter(({ event }) => event.livemode !== false);

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

async function deliver(
  payload: string,
  secret = stack.subledger.config.webhookSecrets[0]?.secret as string,
): Promise<{ status: number; duplicate: boolean }> {
  const response = await fetch(`${stack.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
    },
    body: payload,
  });
  const body = (await response.json()) as { duplicate?: boolean };
  return { status: response.status, duplicate: body.duplicate === true };
}

test('every reference event file is acknowledged, then settled without a dead event', async (t) => {
  assert.ok(files.length >= 150, `only ${files.length} reference event files found`);
  // As delivered: the files reuse a few ids (the stripe-ruby-mock ones are zeroed), so most are duplicates.
  const asIs = [];
  for (const { event } of events) asIs.push(await deliver(JSON.stringify(event)));
  assert.deepEqual(
    asIs.filter((answer) => answer.status !== 200),
    [],
  );
  const distinctIds = new Set(events.map(({ event }) => event.id));
  assert.equal(asIs.filter((answer) => !answer.duplicate).length, distinctIds.size);

  // Each file once more under an id of its own, so that every payload goes through the worker.
  const copies = events.map(({ event }, index) => ({ ...event, id: `evt_reference_copy_${index}` }));
  for (const copy of copies) {
    const answer = await deliver(JSON.stringify(copy));
    assert.deepEqual(answer, { status: 200, duplicate: false }, `${copy.type} was refused`);
  }

  await stack.settle(25_000);

  const { rows } = await stack.database.pool.query<{
    id: string;
    type: string;
    status: string;
    outcome: string;
  }>('select id, type, status, outcome from stripe_events');
  assert.equal(rows.length, distinctIds.size + copies.length);
  assert.deepEqual(
    rows.filter((row) => row.status !== 'processed' || row.outcome === null),
    [],
  );

  const types = new Set(events.map(({ event }) => event.type));
  const ignored = new Set(rows.filter((row) => row.outcome === 'ignored').map((row) => row.type));
  const handled = [...types].filter((type) => EVENT_HANDLERS[type]);
  // A handled type is ignored only when its payload carries another object (stripe-ruby-mock's
  // `plan.*`-shaped `price.deleted`, say); no handled type may be ignored across the board.
  for (const type of handled)
    assert.ok(
      rows.some((row) => row.type === type && row.outcome !== 'ignored'),
      `${type} is handled but every event of it was ignored`,
    );
  const outcomes = new Map<string, number>();
  for (const row of rows) outcomes.set(row.outcome, (outcomes.get(row.outcome) ?? 0) + 1);
  t.diagnostic(
    `${files.length} files, ${distinctIds.size} distinct ids, ${types.size} types (${handled.length} handled); outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ignored types: ${[...ignored].sort().join(' ')}`,
  );
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
  const live = liveEvents[0]?.event as ReferenceEvent & { data: { object: { customer: string } } };
  const customer = live.data.object.customer;
  // A test-mode event about the same customer, newer than anything the mirror holds, in an old version.
  const neighbour = {
    ...(events.find(({ file }) => file === 'sync-engine/customer_updated.json')?.event as ReferenceEvent),
    id: 'evt_reference_neighbour',
    created: Math.floor(Date.now() / 1000) + 60,
  };
  // Signed by the deployment's live endpoint: a test endpoint's secret cannot vouch for a live event.
  const secrets = stack.subledger.config.webhookSecrets;
  secrets.push({ secret: 'whsec_reference_live', livemode: true });
  assert.equal((await deliver(JSON.stringify(live), 'whsec_reference_live')).status, 200);
  secrets.pop();
  assert.equal((await deliver(JSON.stringify(neighbour))).status, 200);
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
