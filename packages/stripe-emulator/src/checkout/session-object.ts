import type Stripe from 'stripe';
import type { Scope } from '../core/scope.ts';
import type { Wire } from '../core/wire.ts';
import type { WireCustomer } from '../customers/index.ts';
import { publicUrl } from '../payments/index.ts';
import type { WireLineItem } from './line-items.ts';

export type WireSession = Wire<Stripe.Checkout.Session>;
export type Mode = 'payment' | 'subscription' | 'setup';

export type NewSession = {
  mode: Mode;
  lineItems: WireLineItem[];
  customer: WireCustomer | null;
  customerEmail: string | null;
  customerCreation: 'always' | 'if_required' | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  successUrl: string | null;
  cancelUrl: string | null;
  currency: string | null;
  allowPromotionCodes: boolean | null;
  locale: Stripe.Checkout.Session.Locale | null;
  expiresAt: number;
  setupIntent: string | null;
  created: number;
};

/** Payment and subscription sessions have ids starting `cs_test_a1`; setup sessions `cs_test_c1`. */
export function sessionId(scope: Scope, mode: Mode): string {
  const kind = mode === 'setup' ? 'c1' : 'a1';
  return `cs_${scope.partition.livemode ? 'live' : 'test'}_${kind}${scope.emulator.random.token(56)}`;
}

/** A new open session, shaped like the recorded `POST /v1/checkout/sessions` responses. */
export function newSession(scope: Scope, id: string, input: NewSession): WireSession {
  const paid = input.mode !== 'setup';
  const amount = paid ? input.lineItems.reduce((sum, item) => sum + item.amount_total, 0) : null;
  return {
    id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: paid },
    after_expiration: null,
    allow_promotion_codes: input.allowPromotionCodes,
    allowed_payment_method_types: null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    branding_settings: {
      background_color: '#ffffff',
      border_style: 'rounded',
      button_color: '#0074d4',
      display_name: 'Stripe Emulator',
      font_family: 'default',
      icon: null,
      logo: null,
    },
    cancel_url: input.cancelUrl,
    client_reference_id: input.clientReferenceId,
    client_secret: null,
    collected_information: { business_name: null, individual_name: null, shipping_details: null },
    consent: null,
    consent_collection: null,
    created: input.created,
    currency: input.lineItems[0]?.currency ?? input.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: input.customer?.id ?? null,
    customer_account: null,
    customer_creation: input.customerCreation,
    customer_details: input.customer
      ? customerDetails(input.customer.email, input.customer, input.mode)
      : null,
    customer_email: input.customerEmail,
    discounts: paid ? [] : null,
    expires_at: input.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: input.mode === 'payment' ? disabledInvoiceCreation() : null,
    livemode: scope.partition.livemode,
    locale: input.locale,
    managed_payments: null,
    metadata: input.metadata,
    mode: input.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: input.mode === 'payment' ? 'if_required' : 'always',
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_status: paid ? 'unpaid' : 'no_payment_required',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: paid
      ? { allow_redisplay_filters: ['always'], payment_method_remove: 'disabled', payment_method_save: null }
      : null,
    setup_intent: input.setupIntent,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: input.successUrl,
    total_details: paid ? { amount_discount: 0, amount_shipping: 0, amount_tax: 0 } : null,
    ui_mode: 'hosted_page',
    url: publicUrl(`/_emulator/checkout/${id}`),
    wallet_options: null,
  };
}

/** What Checkout collected from the customer, or knew from the customer object. */
export function customerDetails(
  email: string | null,
  customer: WireCustomer | null,
  mode: Mode,
): WireSession['customer_details'] {
  return {
    address: customer?.address ?? null,
    business_name: null,
    email,
    individual_name: null,
    name: customer?.name ?? null,
    phone: customer?.phone ?? null,
    tax_exempt: mode === 'setup' ? null : (customer?.tax_exempt ?? 'none'),
    tax_ids: null,
  };
}

function disabledInvoiceCreation(): WireSession['invoice_creation'] {
  return {
    enabled: false,
    invoice_data: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: null,
      metadata: {},
      rendering_options: null,
    },
  };
}

/** `{CHECKOUT_SESSION_ID}` in a redirect URL becomes the session's id when Checkout redirects. */
export function redirectUrl(template: string | null, session: { id: string }): string | null {
  return template ? template.replaceAll('{CHECKOUT_SESSION_ID}', session.id) : null;
}
