import type { Context } from 'hono';
import type { Emulator } from '../emulator.ts';
import type { ControlRoute } from '../server/control.ts';
import type { AttemptFilter } from './delivery-log.ts';
import type { WebhookDispatcher } from './publisher.ts';

const dispatchers = new WeakMap<Emulator, WebhookDispatcher>();

export function registerDispatcher(emulator: Emulator, dispatcher: WebhookDispatcher): void {
  dispatchers.set(emulator, dispatcher);
}

/** The emulator's webhook dispatcher (installed by the webhooks module when the emulator is built). */
export function dispatcherOf(emulator: Emulator): WebhookDispatcher {
  const dispatcher = dispatchers.get(emulator);
  if (!dispatcher) throw new Error('this emulator has no webhook dispatcher (build it with createEmulator)');
  return dispatcher;
}

/**
 * Waits until every webhook has been delivered, failed for good, or been dropped: `true` when idle,
 * `false` if that took longer than `timeoutMs`. Deliveries held for reordering are let go at once.
 */
export function drainWebhooks(emulator: Emulator, timeoutMs?: number): Promise<boolean> {
  return dispatcherOf(emulator).drain(timeoutMs);
}

/** Stops webhook delivery for good (pending retries cleared, requests in flight aborted). */
export function stopWebhooks(emulator: Emulator): void {
  dispatchers.get(emulator)?.stop();
}

const FILTERS = ['endpoint', 'event', 'status', 'type'] as const;

/**
 * - `GET /_emulator/deliveries?endpoint=we_…&event=evt_…&status=failed&type=customer.created`: the
 *   delivery log, oldest first.
 * - `DELETE /_emulator/deliveries`: empties the log.
 * - `POST /_emulator/webhooks/flush` `{ "timeoutMs"?: number }`: answers once nothing is left to send.
 * - `GET /_emulator/webhooks`: delivery settings and how many deliveries are outstanding.
 */
export const webhookControl: ControlRoute = (app, emulator) => {
  app.get('/_emulator/deliveries', (c) => {
    const filter: AttemptFilter = {};
    for (const name of FILTERS) {
      const value = c.req.query(name);
      if (value !== undefined) filter[name] = value;
    }
    return c.json({ object: 'list', data: dispatcherOf(emulator).log.list(filter) });
  });
  app.delete('/_emulator/deliveries', (c) => {
    dispatcherOf(emulator).log.clear();
    return c.json({ ok: true });
  });
  app.post('/_emulator/webhooks/flush', async (c) => {
    const timeoutMs = await requestedTimeout(c);
    if (timeoutMs === null)
      return c.json(
        {
          error: {
            type: 'invalid_request_error',
            message: 'timeoutMs must be a positive whole number of milliseconds',
            param: 'timeoutMs',
          },
        },
        400,
      );
    const idle = await drainWebhooks(emulator, timeoutMs);
    return c.json({ idle, outstanding: dispatcherOf(emulator).outstanding });
  });
  app.get('/_emulator/webhooks', (c) => {
    const dispatcher = dispatcherOf(emulator);
    return c.json({ settings: dispatcher.settings, outstanding: dispatcher.outstanding });
  });
};

/** The flush time limit from the JSON body; `undefined` for the default, `null` when invalid. */
async function requestedTimeout(c: Context): Promise<number | undefined | null> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const value = (body as { timeoutMs?: unknown } | null)?.timeoutMs;
  if (value === undefined) return undefined;
  return Number.isInteger(value) && (value as number) > 0 ? (value as number) : null;
}
