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
};

export async function sendAll<Delivery = SignedDelivery>(
  deliveries: Delivery[],
  pace: Pace,
  deliver: (delivery: Delivery) => Promise<Answer>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const service: number[] = [];
  const statuses: Record<string, number> = {};
  let duplicates = 0;
  const send = async (delivery: Delivery, scheduled: number) => {
    const sentAt = performance.now();
    const answer = await deliver(delivery).catch(() => ({ status: 0, duplicate: false }));
    const answeredAt = performance.now();
    latencies.push(answeredAt - scheduled);
    service.push(answeredAt - sentAt);
    statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
    if (answer.duplicate) duplicates++;
  };
  const startedAt = Date.now();
  if (pace.mode === 'rate') await openLoop(deliveries, pace.perSecond, send);
  else await closedLoops(deliveries, pace.lanes, send);
  return {
    sent: deliveries.length,
    statuses,
    duplicates,
    startedAt,
    endedAt: Date.now(),
    latencyMs: summarize(latencies),
    serviceMs: summarize(service),
  };
}

type Send<Delivery> = (delivery: Delivery, scheduled: number) => Promise<void>;

/** Sends delivery `i` at `start + i / perSecond`, whatever happened to the ones before it. */
function openLoop<Delivery>(deliveries: Delivery[], perSecond: number, send: Send<Delivery>): Promise<void> {
  const interval = 1000 / perSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  return new Promise((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      for (; next < deliveries.length && start + next * interval <= now; next++)
        inFlight.push(send(deliveries[next] as Delivery, start + next * interval));
      if (next < deliveries.length)
        setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
      else void Promise.all(inFlight).then(() => resolve());
    };
    tick();
  });
}

async function closedLoops<Delivery>(
  deliveries: Delivery[],
  lanes: number,
  send: Send<Delivery>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < deliveries.length; index = next++)
      await send(deliveries[index] as Delivery, performance.now());
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/** What a webhook answer says: Subledger answers `{"received":true,"duplicate":…}`. */
export function answerOf(status: number, body: string): Answer {
  return { status, duplicate: body.includes('"duplicate":true') };
}
