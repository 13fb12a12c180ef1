import type { Random } from '../core/random.ts';
import type { QueuedWebhookFault, WebhookFaultRates } from './config.ts';

/** What happens to one event's delivery to one endpoint. */
export type DeliveryPlan = {
  drop: boolean;
  /** Extra deliveries of the same event (0 = delivered once). */
  extraCopies: number;
  delayMs: number;
  /** Names of the faults applied, for the delivery log. */
  faults: string[];
};

export const NO_FAULTS: DeliveryPlan = { drop: false, extraCopies: 0, delayMs: 0, faults: [] };

/**
 * Draws the faults for one delivery. Every draw is made whatever the earlier ones gave (drop, then
 * duplicate, then delay), so the random stream advances by the same amount per delivery and one
 * changed rate does not reshuffle the fate of every later delivery.
 */
export function planDelivery(
  rates: WebhookFaultRates,
  queued: QueuedWebhookFault | null,
  random: Random,
): DeliveryPlan {
  const dropDrawn = random.chance(rates.drop ?? 0);
  const duplicateDrawn = random.chance(rates.duplicate ?? 0);
  const delayDrawn = rates.delayMs ? random.chance(rates.delayProbability ?? 1) : false;

  const drop = dropDrawn || queued?.fault === 'drop';
  const extraCopies = Math.max(
    duplicateDrawn ? (rates.duplicateCopies ?? 1) : 0,
    queued?.fault === 'duplicate' ? (queued.copies ?? 1) : 0,
  );
  const delayMs = Math.max(
    delayDrawn ? (rates.delayMs ?? 0) : 0,
    queued?.fault === 'delay' ? (queued.delayMs ?? 0) : 0,
  );
  const faults = [
    ...(drop ? ['drop'] : []),
    ...(extraCopies > 0 ? ['duplicate'] : []),
    ...(delayMs > 0 ? ['delay'] : []),
  ];
  return { drop, extraCopies: drop ? 0 : extraCopies, delayMs: drop ? 0 : delayMs, faults };
}

/** Consumes one use of the first queued webhook fault for this event type (or for any type). */
export function takeWebhookFault(queue: QueuedWebhookFault[], eventType: string): QueuedWebhookFault | null {
  const index = queue.findIndex((entry) => entry.eventType === undefined || entry.eventType === eventType);
  const entry = queue[index];
  if (!entry) return null;
  entry.count -= 1;
  if (entry.count <= 0) queue.splice(index, 1);
  return { ...entry };
}
