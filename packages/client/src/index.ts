import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.ts';

export type { components, paths } from './schema.ts';

type Schemas = components['schemas'];
export type Entitlements = Schemas['Entitlements'];
export type CheckResult = Schemas['CheckResult'];
export type Account = Schemas['Account'];
export type Timeline = Schemas['Timeline'];
export type ApiError = Schemas['Error'];

export type SubledgerClientOptions = {
  /** Where Subledger listens, e.g. `http://127.0.0.1:4100`. */
  baseUrl: string;
  /** An API key (`subledger keys create`) or an end user's JWT. */
  credential: string;
  /** A fetch of your own (tests, proxies); default: the global one. */
  fetch?: typeof globalThis.fetch;
};

export type SubledgerClient = Client<paths>;

/**
 * A typed client of the Subledger API: every path, parameter and answer is typed from the API's
 * OpenAPI document. Calls answer `{ data }` or `{ error }` (the API's `{ error: { code, message } }`),
 * never throw on an HTTP status.
 *
 *   const subledger = createSubledgerClient({ baseUrl, credential: process.env.SUBLEDGER_API_KEY });
 *   const { data } = await subledger.POST('/v1/check', { body: { account_id: 'acct_42', feature: 'sso' } });
 */
export function createSubledgerClient(options: SubledgerClientOptions): SubledgerClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use(bearer(options.credential));
  return client;
}

function bearer(credential: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${credential}`);
      return request;
    },
  };
}
