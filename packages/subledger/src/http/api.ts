import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Scope } from '../auth/index.ts';
import type { ApiEnv, Guard } from './guard.ts';
import { validationProblem } from './problems.ts';
import { ACCESS_ROUTES } from './routes/access.ts';
import { ACCOUNT_ROUTES } from './routes/accounts.ts';
import { BILLING_ROUTES } from './routes/billing.ts';
import { CREDIT_ROUTES } from './routes/credits.ts';
import { PLAN_ROUTES } from './routes/plans.ts';
import { SUBSCRIPTION_ROUTES } from './routes/subscriptions.ts';

/** Every route of the API, as declared: the document is built from these alone. */
const ROUTES: RouteConfig[] = [
  ...ACCESS_ROUTES,
  ...ACCOUNT_ROUTES,
  ...BILLING_ROUTES,
  ...SUBSCRIPTION_ROUTES,
  ...PLAN_ROUTES,
  ...CREDIT_ROUTES,
];

export const API_DESCRIPTION = {
  openapi: '3.1.0',
  info: {
    title: 'Subledger API',
    version: '1',
    description:
      "Billing state from Subledger's mirror of Stripe: access checks, accounts and billing actions. " +
      'JSON bodies are snake_case. Send an API key (`subledger keys create`) as `Authorization: Bearer`; ' +
      "an end user's JWT may read its own account. Every answer carries a `Request-Id` header; every " +
      'error has the body `{ error: { code, message, param? } }`.',
  },
} as const;

/**
 * The API's Hono app: routes declared with zod schemas (validated, and documented at `/openapi.json`),
 * each behind the guard with the scope it needs.
 */
export class Api extends OpenAPIHono<ApiEnv> {
  readonly #guard: Guard;

  constructor(guard: Guard) {
    super({ defaultHook: validationProblem });
    this.#guard = guard;
    registerSecuritySchemes(this);
  }

  /** The route with the guard in front of it: authentication, rate limit and `scope` come first. */
  guarded<R extends RouteConfig>(route: R, scope: Scope): R {
    return { ...route, middleware: [this.#guard.require(scope)] };
  }

  /** Throws a 403 unless the request's credential may see this account. */
  authorizeAccount(c: Context<ApiEnv>, accountId: string): void {
    this.#guard.authorizeAccount(c, accountId);
  }
}

function registerSecuritySchemes(app: OpenAPIHono<ApiEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key from `subledger keys create --scope read|write|admin`',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'endUserToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "an end user's token (JWKS configured): reads of the account its claim names only",
  });
}

/** The OpenAPI document, from the route declarations alone: what `/openapi.json` serves. */
export function apiDocument() {
  const app = new OpenAPIHono<ApiEnv>();
  registerSecuritySchemes(app);
  for (const route of ROUTES) app.openAPIRegistry.registerPath(route);
  return app.getOpenAPI31Document(API_DESCRIPTION);
}
