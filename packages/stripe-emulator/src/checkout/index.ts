import type { EmulatorModule } from '../server/module.ts';
import { checkoutControl, expiryTicker } from './control.ts';
import { configurationRoutes } from './portal-configurations.ts';
import { portalSessionRoutes } from './portal-sessions.ts';
import { sessionRoutes } from './sessions.ts';

export { type Completion, completeSession } from './complete.ts';
export {
  defaultConfiguration,
  requireConfiguration,
  type WireConfiguration,
} from './portal-configurations.ts';
export { createPortalSession, type WirePortalSession } from './portal-sessions.ts';
export type { WireSession } from './session-object.ts';
export { createSession, expireSession, lineItemTable, requireSession, sessionTable } from './sessions.ts';

export const checkoutModule: EmulatorModule = {
  name: 'checkout',
  routes: [...sessionRoutes, ...configurationRoutes, ...portalSessionRoutes],
  control: checkoutControl,
  install: (emulator) => {
    emulator.tickers.push(expiryTicker(emulator));
    emulator.includable('checkout.session', 'line_items', (session, partition) => {
      const items = partition
        .table<{ id: string; items: unknown[] }>('checkout.session.line_items')
        .get(String(session.id))?.items;
      return {
        object: 'list',
        data: items ?? [],
        has_more: false,
        url: `/v1/checkout/sessions/${String(session.id)}/line_items`,
      };
    });
  },
};
