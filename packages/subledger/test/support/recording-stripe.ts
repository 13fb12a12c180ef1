import type { SentRequest } from '../../src/stripe/client.ts';
import { createStripeClient } from '../../src/stripe/index.ts';

/** A client on the emulator at `apiBase` that records every request it completes. */
export function recordingClient(apiBase: string, secretKey = 'sk_test_reconcile') {
  const requests: SentRequest[] = [];
  const stripe = createStripeClient({ secretKey, apiBase, onResponse: (request) => requests.push(request) });
  return { stripe, requests };
}

export type RecordingStripe = ReturnType<typeof recordingClient>;
