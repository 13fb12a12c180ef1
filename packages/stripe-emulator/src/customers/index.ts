import type { EmulatorModule } from '../server/module.ts';
import { customerRoutes } from './customers.ts';

export {
  createCustomer,
  customerHooks,
  customerTable,
  requireCustomer,
  saveCustomer,
  type WireCustomer,
} from './customers.ts';

export const customersModule: EmulatorModule = { name: 'customers', routes: customerRoutes };
