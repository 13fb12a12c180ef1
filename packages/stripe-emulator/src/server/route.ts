import type { z } from 'zod';
import type { Scope } from '../core/scope.ts';

export type HttpMethod = 'get' | 'post' | 'delete';

export type ApiRequest<Params> = {
  scope: Scope;
  params: Params;
  /** Path parameters, e.g. `{ id: 'cus_…' }` for `/v1/customers/:id`. */
  path: Record<string, string>;
};

export type Route = {
  method: HttpMethod;
  /** Hono path pattern, e.g. `/v1/customers/:id`. */
  path: string;
  params: z.ZodType;
  handle: (request: ApiRequest<unknown>) => unknown | Promise<unknown>;
};

/** Declares one Stripe endpoint: its parameters (a strict zod schema) and what it does. */
export function route<Schema extends z.ZodType>(
  method: HttpMethod,
  path: string,
  params: Schema,
  handle: (request: ApiRequest<z.output<Schema>>) => unknown | Promise<unknown>,
): Route {
  return { method, path, params, handle: handle as Route['handle'] };
}
