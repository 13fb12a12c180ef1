import type { DeliveryAttempt } from 'stripe-emulator';

export type DeliveryFilter = { endpoint?: string; event?: string; status?: DeliveryAttempt['status'] };

/** The emulator's log of webhook delivery attempts (`GET /_emulator/deliveries`), oldest first. */
export async function deliveryAttempts(
  emulatorUrl: string,
  filter: DeliveryFilter = {},
): Promise<DeliveryAttempt[]> {
  const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined));
  const response = await fetch(`${emulatorUrl}/_emulator/deliveries?${query}`);
  if (!response.ok) throw new Error(`the delivery log answered ${response.status}`);
  return ((await response.json()) as { data: DeliveryAttempt[] }).data;
}
