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

/**
 * `customer.tax` and `customer.invoice_credit_balance` appear only through `expand[]`. The emulator
 * computes no tax, so the tax block says what Stripe says for a customer without a known location.
 */
export const customersModule: EmulatorModule = {
  name: 'customers',
  routes: customerRoutes,
  install: (emulator) => {
    emulator.includable('customer', 'tax', () => ({
      automatic_tax: 'unrecognized_location',
      ip_address: null,
      location: null,
      provider: 'stripe',
    }));
    emulator.includable('customer', 'invoice_credit_balance', () => ({}));
  },
};
