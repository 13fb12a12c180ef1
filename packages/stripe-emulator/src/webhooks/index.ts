import type { EmulatorModule } from '../server/module.ts';

export const webhooksModule: EmulatorModule = { name: 'webhooks', routes: [] };
