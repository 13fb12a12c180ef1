import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { billingModule } from './billing/index.ts';
import { catalogModule } from './catalog/index.ts';
import { checkoutModule } from './checkout/index.ts';
import { customersModule } from './customers/index.ts';
import { Emulator, type EmulatorOptions } from './emulator.ts';
import { faultsModule } from './faults/index.ts';
import { paymentsModule } from './payments/index.ts';
import { createApp } from './server/app.ts';
import { coreControlRoutes } from './server/control.ts';
import type { EmulatorModule } from './server/module.ts';
import { webhooksModule } from './webhooks/index.ts';

export { StripeError } from './core/errors.ts';
export { API_VERSION, Emulator, type EmulatorOptions } from './emulator.ts';
export type { FaultOptions } from './faults/index.ts';
export { faultsOf } from './faults/index.ts';
export type { DeliveryAttempt, WebhookOptions } from './webhooks/index.ts';
export { drainWebhooks, signatureHeader } from './webhooks/index.ts';

export type StripeEmulator = {
  emulator: Emulator;
  /** The emulator as a web-standard fetch handler, for in-process use without a port. */
  fetch: (request: Request) => Response | Promise<Response>;
  app: Hono;
};

/** Static paths (`/v1/customers/search`) must come before `/:id` patterns within each module. */
const modules: EmulatorModule[] = [
  customersModule,
  catalogModule,
  billingModule,
  paymentsModule,
  checkoutModule,
  webhooksModule,
  faultsModule,
];

/** Builds an emulator with every resource, control path and service wired in. */
export function createEmulator(options: EmulatorOptions = {}): StripeEmulator {
  const emulator = new Emulator(options);
  for (const module of modules) {
    emulator.routes.push(...module.routes);
    module.install?.(emulator);
  }
  const app = createApp(emulator, (hono) => {
    coreControlRoutes(hono, emulator);
    for (const module of modules) module.control?.(hono, emulator);
  });
  return { emulator, app, fetch: (request) => app.fetch(request) };
}

export type RunningEmulator = StripeEmulator & {
  port: number;
  url: string;
  close: () => Promise<void>;
};

export type ListenOptions = EmulatorOptions & { port?: number; hostname?: string };

/** Starts an emulator on a port (0 picks a free one) and resolves once it accepts connections. */
export async function startEmulator(options: ListenOptions = {}): Promise<RunningEmulator> {
  const built = createEmulator(options);
  const hostname = options.hostname ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const server = serve({ fetch: built.fetch, port: options.port ?? 12111, hostname }, (info) =>
      resolve({ server, port: info.port }),
    );
    server.once('error', reject);
  });
  const close = () =>
    new Promise<void>((resolve, reject) => {
      built.emulator.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return { ...built, port, url: `http://${hostname}:${port}`, close };
}
