import type { Context } from 'hono';
import type { ControlRoute } from '../server/control.ts';
import type { EmulatorModule } from '../server/module.ts';
import { createApiFaultInjector } from './api-faults.ts';
import type { FaultOptions } from './config.ts';
import { FaultConfigError, faultsOf } from './state.ts';

export { FAULT_HEADER } from './api-faults.ts';
export { type ApiFault, parseFaultHeader, planApiFaults } from './api-plan.ts';
export type {
  ApiFaultRates,
  FaultOptions,
  QueuedApiFault,
  QueuedWebhookFault,
  WebhookFaultRates,
} from './config.ts';
export { ReorderWindow } from './reorder-window.ts';
export { FaultConfigError, FaultState, faultsOf } from './state.ts';
export { type DeliveryPlan, NO_FAULTS, planDelivery, takeWebhookFault } from './webhook-plan.ts';

/**
 * `GET /_emulator/faults` shows the faults in force; `POST` sets rate sections and queues one-shot
 * faults (body: `FaultOptions`); `DELETE` (or `POST /_emulator/faults/reset`) turns every fault off.
 */
const faultControl: ControlRoute = (app, emulator) => {
  const state = () => faultsOf(emulator);
  app.get('/_emulator/faults', (c) => c.json(state().snapshot()));
  app.post('/_emulator/faults', async (c) => {
    const body = await jsonBody(c);
    if (body === undefined) return invalid(c, 'The body must be a JSON object.', '');
    try {
      state().configure(body as FaultOptions);
    } catch (error) {
      if (error instanceof FaultConfigError) return invalid(c, error.message, error.param);
      throw error;
    }
    return c.json(state().snapshot());
  });
  const reset = (c: Context) => {
    state().reset();
    return c.json(state().snapshot());
  };
  app.delete('/_emulator/faults', reset);
  app.post('/_emulator/faults/reset', reset);
};

async function jsonBody(c: Context): Promise<object | undefined> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return body && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
}

const invalid = (c: Context, message: string, param: string) =>
  c.json({ error: { type: 'invalid_request_error', message, param } }, 400);

export const faultsModule: EmulatorModule = {
  name: 'faults',
  routes: [],
  control: faultControl,
  install: (emulator) => {
    emulator.apiFaults = createApiFaultInjector(faultsOf(emulator), emulator.apiVersion);
    emulator.onReset.push(() => {
      faultsOf(emulator).reset();
      faultsOf(emulator).appliedApi.clear();
    });
  },
};
