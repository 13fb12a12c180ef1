import type Stripe from 'stripe';
import type { Wire } from '../core/wire.ts';
import type { WireLineItem } from './line-items.ts';
import type { WirePortalSession } from './portal-sessions.ts';
import { redirectUrl, type WireSession } from './session-object.ts';

/**
 * The emulator's stand-ins for Stripe's hosted pages: enough for a person (or a browser test) to see
 * what is being bought and to pay with one of the test cards. Plain HTML forms, no scripts.
 */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const money = (amount: number | null, currency: string | null) =>
  amount === null ? '' : `${(amount / 100).toFixed(2)} ${(currency ?? '').toUpperCase()}`;

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;

const CARDS: [string, string][] = [
  ['pm_card_visa', 'Visa 4242 (succeeds)'],
  ['pm_card_chargeCustomerFail', 'Visa 0341 (attaches, charges fail)'],
  ['pm_card_chargeDeclined', 'Visa 0002 (declined)'],
];

export function checkoutPage(session: WireSession, items: WireLineItem[]): string {
  const rows = items
    .map(
      (item) =>
        `<li>${escapeHtml(item.description ?? '')} × ${item.quantity ?? 1}: ${money(item.amount_total, item.currency)}</li>`,
    )
    .join('');
  const cancel = redirectUrl(session.cancel_url, session);
  const form =
    session.status === 'open'
      ? `<form method="post" action="/_emulator/checkout/sessions/${escapeHtml(session.id)}/complete">
<label>Email <input name="email" value="${escapeHtml(session.customer_email ?? session.customer_details?.email ?? '')}"></label>
${CARDS.map(([value, label], i) => `<label><input type="radio" name="payment_method" value="${value}"${i === 0 ? ' checked' : ''}> ${escapeHtml(label)}</label>`).join('<br>')}
<button type="submit">${session.mode === 'setup' ? 'Save card' : session.mode === 'subscription' ? 'Subscribe' : 'Pay'}</button></form>`
      : `<p>This Checkout Session is ${escapeHtml(String(session.status))}.</p>`;
  return page(
    'Checkout',
    `<h1>Checkout (${escapeHtml(String(session.mode))})</h1><ul>${rows}</ul>
<p>Total: ${money(session.amount_total, session.currency)}</p>${form}
${cancel ? `<p><a href="${escapeHtml(cancel)}">Cancel</a></p>` : ''}`,
  );
}

export function portalPage(session: WirePortalSession, subscriptions: Wire<Stripe.Subscription>[]): string {
  const rows = subscriptions
    .map(
      (subscription) => `<li>${escapeHtml(subscription.id)}: ${escapeHtml(String(subscription.status))}</li>`,
    )
    .join('');
  const back = session.return_url ? `<p><a href="${escapeHtml(session.return_url)}">Return</a></p>` : '';
  return page(
    'Billing portal',
    `<h1>Billing portal</h1><p>Customer ${escapeHtml(session.customer)}</p><ul>${rows}</ul>${back}`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
