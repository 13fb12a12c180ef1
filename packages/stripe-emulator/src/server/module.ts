import type { Emulator } from '../emulator.ts';
import type { ControlRoute } from './control.ts';
import type { Route } from './route.ts';

/**
 * A domain of the emulator (customers, catalog, billing, webhooks, faults): the Stripe endpoints it
 * serves, its `/_emulator/` control paths, and what it wires into the emulator (publishers, tickers,
 * fault injectors, includable fields) when an emulator is built.
 */
export type EmulatorModule = {
  name: string;
  routes: Route[];
  control?: ControlRoute;
  install?: (emulator: Emulator) => void;
};
