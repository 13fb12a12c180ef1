import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AccessService } from '../access/index.ts';
import type { Authenticator, RateLimiter } from '../auth/index.ts';
import { type Billing, BillingError } from '../billing/index.ts';
import type { Catalog } from '../catalog/index.ts';
import type { CreditsService } from '../credits/index.ts';
import type { Database } from '../store/index.ts';
import type { SyncEngine } from '../sync/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import { API_DESCRIPTION, Api } from './api.ts';
import { docsRoutes } from './docs.ts';
import { type ApiEnv, createGuard } from './guard.ts';
import { httpProblem, problem } from './problems.ts';
import { mountAccessRoutes } from './routes/access.ts';
import { type AccountService, mountAccountRoutes } from './routes/accounts.ts';
import { mountBillingRoutes } from './routes/billing.ts';
import { mountCreditRoutes } from './routes/credits.ts';
import { mountPlanRoutes } from './routes/plans.ts';
import { mountSubscriptionRoutes } from './routes/subscriptions.ts';
import { mountWebhooks } from './webhooks.ts';

const REQUEST_ID_HEADER = 'Request-Id';

export type AppDependencies = {
  sync: SyncEngine;
  database: Database;
  metrics: Metrics;
  logger: Logger;
  accounts: AccountService;
  access: AccessService;
  /** Null when no Stripe key is configured: billing actions answer 503 `stripe_not_configured`. */
  billing: Billing | null;
  catalog: Catalog;
  /** `grantPending()` grants what paid invoices and top-ups in the mirror have not granted yet. */
  credits: CreditsService & { grantPending: () => Promise<number> };
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
};

/** The largest body an API route reads (its largest legitimate body is a few kilobytes). */
export const MAX_API_BODY_BYTES = 1024 * 1024;

/** The HTTP surface: the API, its document and docs page, webhook endpoints, health and metrics. */
export function createApp(deps: AppDependencies): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use(requestId({ headerName: REQUEST_ID_HEADER }));
  // Read before any credential is checked: a body is buffered whole to be validated.
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: MAX_API_BODY_BYTES,
      onError: (c) =>
        problem(c, 413, 'payload_too_large', `API bodies are limited to ${MAX_API_BODY_BYTES} bytes`),
    }),
  );
  mountWebhooks(app, deps.sync);
  app.route('/', createApi(deps));
  app.route('/docs', docsRoutes());
  mountOperations(app, deps);
  app.notFound((c) => problem(c, 404, 'route_not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    const known = httpProblem(error, c);
    if (known) return known;
    if (error instanceof BillingError)
      return problem(c, error.status, error.code, error.message, error.param);
    deps.logger.error(
      { err: error, method: c.req.method, path: c.req.path, requestId: c.get('requestId') },
      'request failed',
    );
    return problem(c, 500, 'internal_error', 'the request failed; it has been logged');
  });
  return app;
}

function createApi(deps: AppDependencies): Api {
  const api = new Api(createGuard(deps));
  mountAccountRoutes(api, deps.accounts);
  mountAccessRoutes(api, deps.access);
  mountBillingRoutes(api, deps);
  mountSubscriptionRoutes(api, deps);
  mountPlanRoutes(api, deps);
  mountCreditRoutes(api, deps);
  api.doc31('/openapi.json', API_DESCRIPTION);
  return api;
}

function mountOperations(app: Hono<ApiEnv>, deps: AppDependencies): void {
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    try {
      await deps.database.pool.query('select 1');
      return c.json({ ready: true });
    } catch {
      return c.json(
        { ready: false, error: { code: 'database_unavailable', message: 'PostgreSQL is not answering' } },
        503,
      );
    }
  });
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.exposition(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
}
