import type { EmulatorModule } from '../server/module.ts';

export const catalogModule: EmulatorModule = { name: 'catalog', routes: [] };
