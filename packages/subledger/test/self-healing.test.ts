import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { faultsOf } from 'stripe-emulator';
import { createSubledger, loadConfig, SelfHealingError, type SyncProgress } from '../src/index.ts';
import { createLogger } from '../src/telemetry/index.ts';
import { testDatabase } from './support/database.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
before(async () => {
  stack = await startStack({});
});
after(() => stack.close());

const sync = () => stack.subledger.sync;

/** A customer renamed in Stripe while the one webhook that says so is dropped: drift only a read can see. */
async function renamedUnheard(name: string): Promise<string> {
  const customer = await stack.stripe.customers.create({ email: `${name}@example.com` });
  await stack.settle();
  faultsOf(stack.emulator.emulator).configure({
    next: { webhooks: { fault: 'drop', eventType: 'customer.updated' } },
  });
  await stack.stripe.customers.update(customer.id, { name });
  await stack.settle();
  return customer.id;
}

const mirroredName = async (id: string) =>
  (await stack.database.pool.query('select name from customers where id = $1', [id])).rows[0]?.name;

/** Requests Subledger's Stripe client has sent (`subledger_stripe_requests_total`). */
const stripeRequests = async () =>
  (await stack.subledger.metrics.stripeRequests.get()).values.reduce((sum, { value }) => sum + value, 0);

const refusal = (code: string, message: RegExp) => (error: unknown) =>
  error instanceof SelfHealingError && error.code === code && message.test(error.message);

describe("the self-healing commands as calls on a Subledger's sync engine", () => {
  it('reconcile reports the drift a dropped webhook left, then fixes it', async () => {
    const id = await renamedUnheard('Renamed unheard');
    const progress: SyncProgress[] = [];
    // A kind named twice is compared once.
    const kinds = ['customer', 'customer'] as const;
    const found = await sync().reconcile({ kinds: [...kinds], onProgress: (p) => void progress.push(p) });
    assert.deepEqual(
      found.drift.map((item) => [item.kind, item.id, item.problem]),
      [['customer', id, 'different']],
    );
    assert.equal(found.fixed, 0);
    assert.ok(progress.at(-1)?.finished && progress.at(-1)?.kind === 'customer');
    assert.notEqual(await mirroredName(id), 'Renamed unheard', 'reported, not fixed');

    const fixed = await sync().reconcile({ kinds: ['customer'], fix: true });
    assert.equal(fixed.fixed, 1);
    assert.equal(await mirroredName(id), 'Renamed unheard');
    assert.deepEqual((await sync().reconcile({ kinds: ['customer'] })).drift, []);
  });

  it('backfill reads the kinds asked for into the mirror', async () => {
    const id = await renamedUnheard('Backfilled');
    const result = await sync().backfill({ kinds: ['customer'], requestsPerSecond: 500 });
    assert.deepEqual(Object.keys(result.byKind), ['customer']);
    assert.ok((result.byKind.customer ?? 0) >= 2, JSON.stringify(result));
    assert.equal(await mirroredName(id), 'Backfilled');
  });

  it("catchUp stores the events missed since a time, into the engine's inbox", async () => {
    const since = new Date(stack.emulator.emulator.clock.nowSeconds() * 1000);
    const id = await renamedUnheard('Caught up');
    const result = await sync().catchUp({ since });
    assert.ok(result.stored >= 1, JSON.stringify(result));
    await stack.settle();
    assert.equal(await mirroredName(id), 'Caught up');
  });

  it('replay puts an event back in the queue, and says when there is none', async () => {
    const { rows } = await stack.database.pool.query<{ id: string }>(
      `select id from stripe_events where status = 'processed' order by received_at limit 1`,
    );
    const eventId = rows[0]?.id as string;
    assert.deepEqual(await sync().replay({ eventId }), { ok: true, queued: 1, eventIds: [eventId] });
    await stack.settle();
    const missing = await sync().replay({ eventId: 'evt_never_received' });
    assert.equal(missing.ok, false);
  });

  it('rejects options it cannot take with a coded error, before reading Stripe', async () => {
    const before = await stripeRequests();
    await assert.rejects(
      sync().reconcile({ kinds: ['customer', 'nonsense' as 'customer'] }),
      refusal('invalid_options', /^kinds\.1: /),
    );
    await assert.rejects(sync().backfill({ account: 'shop_1' }), refusal('invalid_options', /acct_/));
    await assert.rejects(
      sync().backfill({ restart: 'yes' as unknown as boolean }),
      refusal('invalid_options', /^restart: /),
    );
    await assert.rejects(
      sync().backfill({ requestsPerSecond: 0 }),
      refusal('invalid_options', /^requestsPerSecond: /),
    );
    await assert.rejects(
      sync().catchUp({ since: new Date(Date.now() + 3_600_000) }),
      refusal('invalid_options', /since must not lie ahead/),
    );
    await assert.rejects(
      sync().catchUp({ since: new Date(Date.now() - 31 * 86_400_000) }),
      refusal(
        'invalid_options',
        /^since: Stripe keeps events for 30 days, so a catch-up cannot go further back/,
      ),
    );
    await assert.rejects(sync().replay({ eventId: 'not an event' }), refusal('invalid_options', /evt_/));
    await assert.rejects(
      sync().reconcile({ fixes: true } as never),
      refusal('invalid_options', /fixes/),
      'an unknown option is not silently ignored',
    );
    assert.equal(await stripeRequests(), before);
  });

  it('refuses to read Stripe without a key, naming what is missing', async () => {
    const database = await testDatabase();
    const keyless = await createSubledger({
      config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: database.url }),
      database,
      logger: createLogger('silent'),
    });
    try {
      for (const call of [
        () => keyless.sync.backfill(),
        () => keyless.sync.reconcile(),
        () => keyless.sync.catchUp(),
      ])
        await assert.rejects(call(), refusal('stripe_not_configured', /STRIPE_SECRET_KEY/));
      assert.deepEqual(await keyless.sync.replay({ failed: true }), { ok: true, queued: 0 });
    } finally {
      await keyless.close();
      await database.drop();
    }
  });
});
