import type { Context } from 'hono';
import type Stripe from 'stripe';
import { StripeError } from '../core/errors.ts';
import type { Wire } from '../core/wire.ts';
import type { Emulator, Ticker } from '../emulator.ts';
import { controlError, partitionHolding } from '../payments/index.ts';
import type { ControlRoute } from '../server/control.ts';
import { type Completion, completeSession } from './complete.ts';
import { checkoutPage, messagePage, portalPage } from './pages.ts';
import { portalSessionTable } from './portal-sessions.ts';
import { redirectUrl } from './session-object.ts';
import { expireSession, lineItemTable, sessionTable } from './sessions.ts';

/** Sessions left open past `expires_at` expire, as Stripe's do. */
export function expiryTicker(emulator: Emulator): Ticker {
  return {
    tick(nowSeconds) {
      for (const partition of emulator.store.partitions()) {
        const scope = emulator.scope(partition);
        for (const session of [...sessionTable(scope).values()])
          if (session.status === 'open' && session.expires_at <= nowSeconds)
            expireSession(scope, session, nowSeconds);
      }
    },
  };
}

/** The control body as JSON (tests) or as the checkout page's form. */
async function readCompletion(c: Context): Promise<{ completion: Completion; fromForm: boolean }> {
  const type = c.req.header('content-type') ?? '';
  const fromForm = type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data');
  const body = (fromForm ? await c.req.parseBody() : await c.req.json().catch(() => ({}))) as Record<
    string,
    unknown
  >;
  const text = (key: string) =>
    typeof body[key] === 'string' && body[key] !== '' ? (body[key] as string) : undefined;
  return {
    completion: {
      paymentMethod: text('payment_method') ?? 'pm_card_visa',
      email: text('email'),
      name: text('name'),
    },
    fromForm,
  };
}

const notFound = (c: Context, id: string) =>
  c.json({ error: { type: 'invalid_request_error', message: `No such checkout.session: '${id}'` } }, 404);

/**
 * `GET /_emulator/checkout/:id` is the page a session's `url` opens.
 * `POST /_emulator/checkout/sessions/:id/complete` with `{ "payment_method": "pm_card_visa" }` (or the
 * page's form) completes it as the customer would: JSON answers `{ session, redirect_url }` or the
 * card error (402) that leaves the session open; the form redirects to `success_url`.
 * `GET /_emulator/billing_portal/:id` is the page a portal session's `url` opens.
 */
export const checkoutControl: ControlRoute = (app, emulator) => {
  app.get('/_emulator/checkout/:id', (c) => {
    const id = c.req.param('id');
    const partition = partitionHolding(emulator, 'checkout.session', id);
    if (!partition) return c.html(messagePage('Not found', `No such Checkout Session: ${id}`), 404);
    const scope = emulator.scope(partition);
    const session = sessionTable(scope).get(id);
    if (!session) return c.html(messagePage('Not found', `No such Checkout Session: ${id}`), 404);
    return c.html(checkoutPage(session, lineItemTable(scope).get(id)?.items ?? []));
  });
  app.post('/_emulator/checkout/sessions/:id/complete', async (c) => {
    const id = c.req.param('id');
    const partition = partitionHolding(emulator, 'checkout.session', id);
    if (!partition) return notFound(c, id);
    const scope = emulator.scope(partition);
    const session = sessionTable(scope).get(id);
    if (!session) return notFound(c, id);
    const { completion, fromForm } = await readCompletion(c);
    try {
      const completed = completeSession(scope, session, completion);
      const redirect = redirectUrl(completed.success_url, completed);
      if (fromForm)
        return redirect
          ? c.redirect(redirect, 303)
          : c.html(messagePage('Thank you', 'The Checkout Session is complete.'));
      return c.json({ session: completed, redirect_url: redirect });
    } catch (error) {
      if (fromForm && error instanceof StripeError)
        return c.html(messagePage('Payment failed', error.body.message), error.status as 402);
      return controlError(c, error);
    }
  });
  app.get('/_emulator/billing_portal/:id', (c) => {
    const id = c.req.param('id');
    const partition = partitionHolding(emulator, 'billing_portal.session', id);
    const session = partition && portalSessionTable(emulator.scope(partition)).get(id);
    if (!partition || !session) return c.html(messagePage('Not found', `No such portal session: ${id}`), 404);
    const subscriptions = [...partition.table<Wire<Stripe.Subscription>>('subscription').values()].filter(
      (subscription) => subscription.customer === session.customer,
    );
    return c.html(portalPage(session, subscriptions));
  });
};
