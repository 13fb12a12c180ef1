import { createHmac } from 'node:crypto';

/**
 * Stripe's webhook signature: an HMAC-SHA256 of `"<timestamp>.<payload>"`, keyed with the endpoint's
 * whole secret (`whsec_…` included), hex-encoded, sent as `Stripe-Signature: t=<timestamp>,v1=<hex>`.
 * `stripe.webhooks.constructEvent(payload, header, secret)` checks exactly this.
 */
export function signatureHeader(payload: string, secret: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${computeSignature(payload, secret, timestampSeconds)}`;
}

export function computeSignature(payload: string, secret: string, timestampSeconds: number): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
}
