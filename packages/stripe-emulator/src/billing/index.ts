import type { EmulatorModule } from '../server/module.ts';

export const billingModule: EmulatorModule = { name: 'billing', routes: [] };
