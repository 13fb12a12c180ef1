import type { EmulatorModule } from '../server/module.ts';

export const faultsModule: EmulatorModule = { name: 'faults', routes: [] };
