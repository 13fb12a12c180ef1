import { faultsOf } from '../faults/index.ts';
import type { EmulatorModule } from '../server/module.ts';
import { registerDispatcher, stopWebhooks, webhookControl } from './control.ts';
import { endpointRoutes } from './endpoints.ts';
import { eventRoutes } from './events-api.ts';
import { deliverySettings } from './options.ts';
import { WebhookDispatcher } from './publisher.ts';

export { retryDelayMs, retrySchedule } from './backoff.ts';
export { dispatcherOf, drainWebhooks, stopWebhooks } from './control.ts';
export type { AttemptFilter, AttemptStatus, DeliveryAttempt } from './delivery-log.ts';
export { receiversOf, type WireWebhookEndpoint } from './endpoints.ts';
export { eventMatcher, typePattern } from './events-api.ts';
export { listensTo, receives } from './matching.ts';
export { DEFAULT_DELIVERY, type WebhookOptions } from './options.ts';
export { WebhookDispatcher } from './publisher.ts';
export { computeSignature, signatureHeader } from './signature.ts';

export const webhooksModule: EmulatorModule = {
  name: 'webhooks',
  routes: [...endpointRoutes, ...eventRoutes],
  control: webhookControl,
  install: (emulator) => {
    const dispatcher = new WebhookDispatcher(
      emulator,
      deliverySettings(emulator.options.webhooks),
      faultsOf(emulator),
    );
    registerDispatcher(emulator, dispatcher);
    emulator.webhooks = dispatcher;
    emulator.onReset.push(() => dispatcher.log.clear());
    emulator.onClose.push(() => stopWebhooks(emulator));
  },
};
