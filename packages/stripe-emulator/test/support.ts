import Stripe from 'stripe';
import { type ListenOptions, type RunningEmulator, startEmulator } from '../src/index.ts';

export type Harness = { emulator: RunningEmulator; stripe: Stripe; close: () => Promise<void> };

/** The official SDK pointed at the emulator, as an app under test would configure it. */
export function sdkFor(
  running: { port: number },
  key = 'sk_test_emulator',
  options: Partial<Stripe.StripeConfig> = {},
) {
  return new Stripe(key, {
    host: '127.0.0.1',
    port: running.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
    ...options,
  });
}

/** Starts an emulator on a free port with a fixed seed and returns an SDK client for it. */
export async function startHarness(options: ListenOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({ port: 0, seed: 42, ...options });
  return { emulator, stripe: sdkFor(emulator), close: () => emulator.close() };
}
