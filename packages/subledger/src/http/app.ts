import { type Context, Hono } from 'hono';
import { type RequestIdVariables, requestId } from 'hono/request-id';
import type { AccessChecker } from '../access/index.ts';
import type { Database } from '../store/index.ts';
import type { SyncEngine } from '../sync/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import { accessRoutes } from './access.ts';
import { type AccountService, accountRoutes } from './accounts.ts';

const REQUEST_ID_HEADER = 'Request-Id';

type AppEnv = { Variables: RequestIdVariables };

export type AppDependencies = {
  sync: SyncEngine;
  database: Database;
  metrics: Metrics;
  logger: Logger;
  accounts: AccountService;
  access: AccessChecker;
};

/** The HTTP surface: webhook endpoints, health, readiness and metrics. */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId({ headerName: REQUEST_ID_HEADER }));
  // A Response made outside the app does not get the headers the middleware set on the context.
  const withRequestId = (c: Context<AppEnv>, response: Response) => {
    response.headers.set(REQUEST_ID_HEADER, c.get('requestId'));
    return response;
  };
  app.post('/webhooks/stripe', async (c) => withRequestId(c, await deps.sync.handleWebhook(c.req.raw)));
  app.post('/webhooks/stripe/connect', async (c) =>
    withRequestId(c, await deps.sync.handleConnectWebhook(c.req.raw)),
  );
  app.route('/v1/accounts', accountRoutes(deps.accounts));
  app.route('/v1', accessRoutes(deps.access));
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
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  app.notFound((c) =>
    c.json(
      { error: { code: 'route_not_found', message: `no route for ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );
  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json(
      { error: { code: 'internal_error', message: 'the request failed; it has been logged' } },
      500,
    );
  });
  return app;
}
