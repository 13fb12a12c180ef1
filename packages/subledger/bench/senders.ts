import type { SignedDelivery } from './event-stream.ts';
import { type Summary, summarize } from './stats.ts';

/**
 * How deliveries are sent, whatever carries them (HTTP from the load process, or the web-standard
 * handler called in-process):
 * - `rate`: open loop at a fixed arrival rate. Latency counts from each delivery's scheduled time, so a
 *   slow answer cannot hide the deliveries queued behind it (no coordinated omission).
 * - `burst`: `lanes` closed loops, each sending its next delivery as soon as the last one is answered.
 */
export type Pace = { mode: 'rate'; perSecond: number } | { mode: 'burst'; lanes: number };

export type Answer = { status: number; duplicate: boolean };

export type LoadResult = {
  sent: number;
  statuses: Record<string, number>;
  duplicates: number;
  /** Wall-clock (epoch ms) of the first delivery sent and the last answer received. */
  startedAt: number;
  endedAt: number;
  latencyMs: Summary;
  /** From the moment a delivery actually left, without waiting for its scheduled time. */
  serviceMs: Summary;
  /**
   * Positions (in the deliveries sent) of those answered with no 2xx: a connection error (status 0) or
   * a refusal. Stripe delivers such an event again, so its absence from the inbox is not a loss.
   */
  unanswered: number[];
};

export async function sendAll<Delivery = SignedDelivery>(
  deliveries: Delivery[],
  pace: Pace,
  deliver: (delivery: Delivery) => Promise<Answer>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const service: number[] = [];
  const statuses: Record<string, number> = {};
  const unanswered: number[] = [];
  let duplicates = 0;
  const send = async (position: number, scheduled: number) => {
    const sentAt = performance.now();
    const answer = await deliver(deliveries[position] as Delivery).catch(() => ({
      status: 0,
      duplicate: false,
    }));
    const answeredAt = performance.now();
    latencies.push(answeredAt - scheduled);
    service.push(answeredAt - sentAt);
    statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
    if (answer.status < 200 || answer.status > 299) unanswered.push(position);
    if (answer.duplicate) duplicates++;
  };
  const startedAt = Date.now();
  if (pace.mode === 'rate') await openLoop(deliveries.length, pace.perSecond, send);
  else await closedLoops(deliveries.length, pace.lanes, send);
  return {
    sent: deliveries.length,
    statuses,
    duplicates,
    startedAt,
    endedAt: Date.now(),
    latencyMs: summarize(latencies),
    serviceMs: summarize(service),
    unanswered,
  };
}

/** Sends the delivery at `position`, scheduled for `scheduled` (`performance.now()` time). */
type Send = (position: number, scheduled: number) => Promise<void>;

/** Sends delivery `i` at `start + i / perSecond`, whatever happened to the ones before it. */
function openLoop(count: number, perSecond: number, send: Send): Promise<void> {
  const interval = 1000 / perSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  return new Promise((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      for (; next < count && start + next * interval <= now; next++)
        inFlight.push(send(next, start + next * interval));
      if (next < count) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
      else void Promise.all(inFlight).then(() => resolve());
    };
    tick();
  });
}

async function closedLoops(count: number, lanes: number, send: Send): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let position = next++; position < count; position = next++) await send(position, performance.now());
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/** What a webhook answer says: Subledger answers `{"received":true,"duplicate":…}`. */
export function answerOf(status: number, body: string): Answer {
  return { status, duplicate: body.includes('"duplicate":true') };
}
