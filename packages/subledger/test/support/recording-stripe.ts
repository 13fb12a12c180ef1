import { createStripeClient } from '../../src/stripe/index.ts';

/** A client on the emulator at `apiBase` that records every request it completes. */
export function recordingClient(apiBase: string) {
  const requests: { path: string; status: number }[] = [];
  const stripe = createStripeClient({
    secretKey: 'sk_test_reconcile',
    apiBase,
    onResponse: (request) => requests.push(request),
  });
  return { stripe, requests };
}

export type RecordingStripe = ReturnType<typeof recordingClient>;
