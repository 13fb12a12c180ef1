import type { Route } from '../server/route.ts';
import { customerRoutes } from './customers.ts';

/** Every Stripe endpoint the emulator serves, in registration order (static paths before `:id`). */
export const resourceRoutes: Route[] = [...customerRoutes];
