import type { Hono } from 'hono';
import type { Emulator } from '../emulator.ts';

/**
 * The emulator's own control paths under `/_emulator/`: not part of Stripe's API, no API key needed.
 * Modules add theirs to `controlRoutes` (faults, checkout completion, the delivery log …).
 */
export type ControlRoute = (app: Hono, emulator: Emulator) => void;

export const coreControlRoutes: ControlRoute = (app, emulator) => {
  app.get('/_emulator/health', (c) =>
    c.json({ ok: true, api_version: emulator.apiVersion, seed: emulator.random.seed }),
  );
  app.post('/_emulator/reset', (c) => {
    emulator.reset();
    return c.json({ ok: true });
  });
  app.post('/_emulator/time/advance', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { seconds?: unknown };
    const seconds = Number(body.seconds);
    if (!Number.isInteger(seconds) || seconds < 0)
      return c.json(
        {
          error: {
            type: 'invalid_request_error',
            message: 'seconds must be a non-negative integer',
            param: 'seconds',
          },
        },
        400,
      );
    emulator.clock.advanceBy(seconds);
    await emulator.tick();
    return c.json({ now: emulator.clock.nowSeconds() });
  });
};
