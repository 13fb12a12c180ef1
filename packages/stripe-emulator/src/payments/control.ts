import type { Context } from 'hono';
import { StripeError } from '../core/errors.ts';
import type { Partition } from '../core/store.ts';
import type { Emulator } from '../emulator.ts';
import type { ControlRoute } from '../server/control.ts';
import { chargeTable, type WireCharge } from './charges.ts';
import { settleInvoiceOf } from './invoice-settlement.ts';
import { completeAuthentication, paymentIntentTable } from './payment-intents.ts';
import { declineError } from './payment-methods.ts';
import { rememberOrigin } from './public-url.ts';

/** Control paths name objects by id only; ids are unique across accounts, so the owner is found. */
export function partitionHolding(emulator: Emulator, objectName: string, id: string): Partition | null {
  return emulator.store.partitions().find((partition) => partition.table(objectName).has(id)) ?? null;
}

export function controlError(c: Context, error: unknown) {
  if (error instanceof StripeError) return c.json({ error: error.body }, error.status as 402);
  throw error;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function receiptPage(charge: WireCharge): string {
  const amount = `${(charge.amount / 100).toFixed(2)} ${charge.currency.toUpperCase()}`;
  const card = charge.payment_method_details?.card;
  return `<!doctype html><html><head><title>Receipt ${escapeHtml(charge.id)}</title></head><body>
<h1>Receipt</h1><p>${escapeHtml(amount)} paid with ${escapeHtml(card?.brand ?? 'card')} •••• ${escapeHtml(card?.last4 ?? '')}</p>
<p>Charge ${escapeHtml(charge.id)}, ${new Date(charge.created * 1000).toISOString()}</p></body></html>`;
}

/**
 * `GET /_emulator/receipts/:id` serves the page a charge's `receipt_url` points at.
 * `POST /_emulator/payment_intents/:id/authenticate` with `{ "outcome": "succeed" | "fail" }` plays
 * the customer on the 3D Secure page of a payment intent that requires action.
 */
export const paymentsControl: ControlRoute = (app, emulator) => {
  app.use('*', rememberOrigin);
  app.get('/_emulator/receipts/:id', (c) => {
    const id = c.req.param('id');
    const partition = partitionHolding(emulator, 'charge', id);
    const charge = partition && chargeTable(emulator.scope(partition)).get(id);
    if (!charge) return c.text('No such receipt', 404);
    return c.html(receiptPage(charge));
  });
  app.post('/_emulator/payment_intents/:id/authenticate', async (c) => {
    const id = c.req.param('id');
    const body = (await c.req.json().catch(() => ({}))) as { outcome?: unknown };
    const partition = partitionHolding(emulator, 'payment_intent', id);
    if (!partition)
      return c.json(
        { error: { type: 'invalid_request_error', message: `No such payment_intent: '${id}'` } },
        404,
      );
    try {
      const scope = emulator.scope(partition);
      const current = paymentIntentTable(scope).get(id);
      if (!current) throw new Error(`payment intent ${id} vanished`);
      const at = emulator.clock.nowSeconds();
      const result = completeAuthentication(scope, current, body.outcome !== 'fail', at);
      if (result.decline)
        throw declineError(result.decline, {
          payment_intent: result.paymentIntent,
          payment_method: result.paymentMethod,
        });
      return c.json(settleInvoiceOf(scope, result.paymentIntent, at));
    } catch (error) {
      return controlError(c, error);
    }
  });
};
