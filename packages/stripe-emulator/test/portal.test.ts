import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { type Harness, startHarness } from './support.ts';

describe('billing portal through the official SDK', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('creates a session on the default configuration, as the recorded one', async () => {
    const customer = await h.stripe.customers.create({ email: 'portal@example.com' });
    const session = await h.stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'http://localhost:3000/',
    });
    assert.match(session.id, /^bps_/);
    assert.equal(session.customer, customer.id);
    assert.equal(session.return_url, 'http://localhost:3000/');
    assert.equal(session.flow, null);
    assert.equal(session.url, `${h.emulator.url}/_emulator/billing_portal/${session.id}`);
    const configuration = await h.stripe.billingPortal.configurations.retrieve(String(session.configuration));
    assert.equal(configuration.is_default, true);
    assert.equal(configuration.features.subscription_cancel.enabled, true);
    const again = await h.stripe.billingPortal.sessions.create({ customer: customer.id });
    assert.equal(again.configuration, session.configuration);
    const page = await fetch(session.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Billing portal/);
    const events = [...h.emulator.emulator.partition(null, false).table<Stripe.Event>('event').values()];
    assert.equal(events.filter((event) => event.type === 'billing_portal.session.created').length, 2);
  });

  it('creates, lists and updates configurations', async () => {
    const created = await h.stripe.billingPortal.configurations.create({
      features: {
        invoice_history: { enabled: true },
        subscription_update: {
          enabled: true,
          default_allowed_updates: ['price', 'quantity'],
          proration_behavior: 'create_prorations',
          products: [{ product: 'prod_x', prices: ['price_x'] }],
        },
      },
      default_return_url: 'https://example.com/account',
      metadata: { tier: 'pro' },
    });
    assert.equal(created.is_default, false);
    assert.equal(created.features.subscription_update.enabled, true);
    assert.deepEqual(created.features.subscription_update.products?.[0]?.prices, ['price_x']);
    assert.equal(created.features.customer_update.enabled, false);
    const updated = await h.stripe.billingPortal.configurations.update(created.id, {
      active: false,
      features: { customer_update: { enabled: true, allowed_updates: ['email'] } },
    });
    assert.equal(updated.active, false);
    assert.deepEqual(updated.features.customer_update.allowed_updates, ['email']);
    const inactive = await h.stripe.billingPortal.configurations.list({ active: false });
    assert.deepEqual(
      inactive.data.map((c) => c.id),
      [created.id],
    );
    const customer = await h.stripe.customers.create({});
    await assert.rejects(
      h.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: created.id }),
      /inactive/,
    );
  });

  it('checks flow data and the customer', async () => {
    const customer = await h.stripe.customers.create({});
    await assert.rejects(
      h.stripe.billingPortal.sessions.create({
        customer: customer.id,
        flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: 'sub_missing' } },
      }),
      (error: Stripe.errors.StripeError) =>
        error.code === 'resource_missing' && error.param === 'flow_data[subscription_cancel][subscription]',
    );
    const flow = await h.stripe.billingPortal.sessions.create({
      customer: customer.id,
      flow_data: {
        type: 'payment_method_update',
        after_completion: { type: 'redirect', redirect: { return_url: 'https://example.com/done' } },
      },
    });
    assert.equal(flow.flow?.type, 'payment_method_update');
    assert.equal(flow.flow?.after_completion.redirect?.return_url, 'https://example.com/done');
    await assert.rejects(
      h.stripe.billingPortal.sessions.create({ customer: 'cus_missing' }),
      (error: Stripe.errors.StripeError) => error.statusCode === 404 && error.param === 'customer',
    );
  });
});
