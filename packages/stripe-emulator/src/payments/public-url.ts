import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';

/**
 * The emulator's address as the client reached it. Checkout and portal URLs and receipts point back at
 * the emulator, and only the request knows the host and port it was reached on; handlers get it from
 * here rather than through every function's parameters.
 */
const requestOrigin = new AsyncLocalStorage<string>();

/** Used when no request is in flight (background work), matching the CLI's default port. */
const FALLBACK_ORIGIN = 'http://127.0.0.1:12111';

export const rememberOrigin: MiddlewareHandler = (c, next) =>
  requestOrigin.run(new URL(c.req.url).origin, () => next());

export function publicUrl(path: string): string {
  return `${requestOrigin.getStore() ?? FALLBACK_ORIGIN}${path}`;
}
