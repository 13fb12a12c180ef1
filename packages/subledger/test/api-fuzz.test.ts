import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { apiDocument } from '../src/http/index.ts';
import { teamCatalog as catalog, createCatalogPrices } from './support/billing.ts';
import { type Stack, startStack } from './support/stack.ts';

/**
 * Bad input gets a clear 4xx with a machine-readable code: never a 5xx, never a partial write. Every
 * operation of the OpenAPI document is fuzzed through real HTTP, so a route is covered once declared.
 */

const RUNS_PER_OPERATION = 60;
// Fixed, so that a failure replays; `FUZZ_SEED=n` explores further.
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
let stack: Stack;

/** What a valid body needs beyond the document's examples: a feature and a plan this catalog has. */
const BODY_FIELDS: Record<string, object> = {
  'POST /v1/check': { feature: 'members' },
  'POST /v1/checkout': { plan: 'team' },
};
/** Answered 200 with their example, as every read is: the fuzzer's neighbourhood is not only refusals. */
const EXPECT_OK = new Set(['POST /v1/check', 'POST /v1/checkout']);

// The slice of OpenAPI 3.1 this file reads; the document's own types make every field a `$ref` union.
type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
};
type DocumentOperation = {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
type Operation = { key: string; method: string; path: string; params: Record<string, string>; body?: Schema };

const document = apiDocument();
const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
const resolve = (schema: Schema): Schema =>
  schema.$ref ? resolve(schemas[schema.$ref.split('/').pop() ?? ''] ?? {}) : schema;

/** A body from the schema's examples alone: the valid body of a new operation no table entry names. */
function exampleOf(schema: Schema): unknown {
  const resolved = resolve(schema);
  if (resolved.example !== undefined) return resolved.example;
  if (resolved.format === 'uri') return 'https://app.example/back';
  const type = [resolved.type].flat()[0] ?? '';
  if (type === 'object')
    return Object.fromEntries(
      (resolved.required ?? []).map((name) => [name, exampleOf(resolved.properties?.[name] ?? {})]),
    );
  return SCALAR_EXAMPLES[type];
}
const SCALAR_EXAMPLES: Record<string, unknown> = { string: 'example', number: 1, integer: 1, boolean: true };

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
const OPERATIONS: Operation[] = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const operation = (item as Record<string, DocumentOperation | undefined>)[method];
    if (!operation) return [];
    const params = (operation.parameters ?? [])
      .filter((parameter) => parameter.in === 'path')
      .map((parameter) => [parameter.name, String(parameter.schema?.example ?? 'example')]);
    const body = operation.requestBody?.content?.['application/json']?.schema;
    const key = `${method.toUpperCase()} ${path}`;
    return [{ key, method: method.toUpperCase(), path, params: Object.fromEntries(params), body }];
  }),
);

const validBody = (operation: Operation) =>
  operation.body ? { ...(exampleOf(operation.body) as object), ...BODY_FIELDS[operation.key] } : undefined;

type Request = {
  params: Record<string, string>;
  body?: string;
  contentType?: string;
  idempotencyKey?: string;
};

const urlOf = (operation: Operation, params: Record<string, string>) =>
  operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

const excerpt = (text: string) =>
  `${JSON.stringify(text.slice(0, 120))}${text.length > 120 ? `… (${text.length} chars)` : ''}`;
/** What an error answer may hold: anything, until it is checked. */
type Answer = { error?: { code?: unknown; message?: unknown } } | null;

/** Sends the request (with the admin key, or no credential at all) and checks the shape of any answer. */
async function send(operation: Operation, request: Request, credential: string | null = stack.apiKey) {
  const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
  if (request.contentType) headers['content-type'] = request.contentType;
  if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
  // Bytes, not a string: fetch would add `text/plain` to a string body, and a missing type is a case.
  const body = request.body === undefined ? undefined : new TextEncoder().encode(request.body);
  const url = urlOf(operation, request.params);
  const response = await fetch(`${stack.url}${url}`, { method: operation.method, headers, body });
  const copy = response.clone();
  const parsed = (await copy.json().catch(() => null)) as Answer;
  const text = await response.text();
  // The request in a line a person can replay: fuzzed values are long and unprintable.
  const sent = `${operation.method} ${excerpt(url)} body ${excerpt(request.body ?? '')}`;
  const headersSent = `type ${request.contentType}, key of ${request.idempotencyKey?.length ?? 0} chars`;
  const seen = `${sent} (${headersSent}) → ${response.status} ${excerpt(text)}`;
  assert.ok(response.status < 500, `a 5xx: ${seen}`);
  assert.ok(response.headers.get('request-id'), `no Request-Id: ${seen}`);
  if (response.status < 400) return { status: response.status, code: null };
  const error = parsed?.error;
  assert.ok(typeof error?.code === 'string' && error.code !== '', `no error code: ${seen}`);
  assert.ok(typeof error?.message === 'string' && error.message !== '', `no error message: ${seen}`);
  return { status: response.status, code: error.code };
}

// ---- Arbitraries: what a confused or hostile caller sends.

const HUGE = 'x'.repeat(100_000);
const pathText = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'binary', minLength: 1_000, maxLength: 2_000 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '\u007f', '\n', '/', '%', '.'), maxLength: 20 }),
    fc.string({ unit: 'binary-ascii', minLength: 480, maxLength: 2_000 }),
    fc.constantFrom('', '.', '..', '../..', '%00', '%2e%2e', ' ', '\r\n', '?x=1', '#frag'),
  )
  // Lone surrogates cannot be URL-encoded at all: `encodeURIComponent` throws before any request.
  .map((text) => text.toWellFormed());
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, -1, 0, 0.5, -0.25, 1e308, -1e308, 2 ** 53 + 1, HUGE, `é${HUGE}`, '', [], {}),
  fc.double(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
);

function bodyArbitrary(operation: Operation): fc.Arbitrary<string> {
  const valid: Record<string, unknown> = validBody(operation) ?? {};
  const fields = [...Object.keys(resolve(operation.body ?? {}).properties ?? {}), 'extra_field', '__proto__'];
  const validKeys = Object.keys(valid);
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
    fc.dictionary(fc.constantFrom(...fields), wrongValue, { minKeys: 1 }).map((body) => JSON.stringify(body)),
    fc
      .tuple(fc.constantFrom(...(validKeys.length ? validKeys : fields)), fc.option(wrongValue))
      .map(([field, value]) => {
        const { [field]: _dropped, ...rest } = valid;
        return JSON.stringify(value === null ? rest : { ...rest, [field]: value });
      }),
    fc.constant(JSON.stringify({ ...valid, extra_field: 1 })),
    fc.constant(JSON.stringify(valid).slice(0, -1)),
  );
}

/**
 * A path parameter: anything, or anything after the example (so that a pattern such as `cs_…` does not
 * refuse every case at the door); beside a body, mostly the example itself, so the body is what is judged.
 */
const paramText = (example: string, withBody: boolean) => {
  const exact = { weight: withBody ? 3 : 0, arbitrary: fc.constant(example) };
  const prefixed = pathText.map((suffix) => example + suffix);
  return fc.oneof(pathText, prefixed, exact);
};

function requestArbitrary(operation: Operation): fc.Arbitrary<Request> {
  const withBody = operation.body !== undefined;
  const params = Object.entries(operation.params).map(([name, value]) => [name, paramText(value, withBody)]);
  // Mostly JSON, so that the body is what gets refused; sometimes a wrong type or none at all.
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
    fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'),
    fc.constantFrom('application/jsonx', undefined),
  );
  const tooLongKey = fc.stringMatching(/^[!-~]{256,1000}$/);
  return fc.record(
    {
      params: fc.record(Object.fromEntries(params)),
      body: withBody ? bodyArbitrary(operation) : fc.constant(undefined),
      contentType: withBody ? contentType : fc.constant(undefined),
      idempotencyKey: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, tooLongKey),
    },
    { requiredKeys: ['params'] },
  );
}

// ---- What a refused request must not have written.

const TABLES = ['customers', 'checkout_sessions', 'account_customers', 'usage_events', 'api_keys'];
const countOf = (table: string) => `(select count(*)::int from ${table}) as ${table}`;
const ROW_COUNTS = `select ${TABLES.map(countOf).join(', ')}`;
async function written() {
  const [customers, sessions, rows] = await Promise.all([
    stack.stripe.customers.list({ limit: 100 }),
    stack.stripe.checkout.sessions.list({ limit: 100 }),
    stack.database.pool.query(ROW_COUNTS),
  ]);
  return { stripe_customers: customers.data.length, stripe_sessions: sessions.data.length, ...rows.rows[0] };
}

before(async () => {
  stack = await startStack({
    catalog,
    webhookEndpoint: false,
    // The fuzzer is one credential sending hundreds of requests a second; 429s would hide the answers.
    environment: { SUBLEDGER_RATE_LIMIT: '100000' },
  });
  await createCatalogPrices(stack.stripe);
  // `acct_42`, every example's account, gets a customer: its reads answer 200 rather than 404.
  const body = validBody(OPERATIONS.find((operation) => operation.key === 'POST /v1/checkout') as Operation);
  const opened = await stack.client.POST('/v1/checkout', { body: body as never });
  assert.equal(opened.response.status, 200, JSON.stringify(opened.error));
});

after(() => stack.close());

test('every operation refuses a request without credentials, and answers its example without a 5xx', async () => {
  assert.ok(OPERATIONS.length > 0, 'apiDocument() lists no operations');
  for (const operation of OPERATIONS) {
    const body = validBody(operation);
    const request: Request = {
      params: operation.params,
      ...(body ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
    };
    const anonymous = await send(operation, request, null);
    assert.deepEqual([anonymous.status, anonymous.code], [401, 'authentication_required'], operation.key);
    const answered = await send(operation, request);
    if (operation.method === 'GET' || EXPECT_OK.has(operation.key))
      assert.equal(answered.status, 200, `${operation.key} answered ${answered.status} ${answered.code}`);
  }
});

test('malformed input to every operation: a coded 4xx, never a 5xx, never a write', async (t) => {
  for (const operation of OPERATIONS)
    await t.test(operation.key, async (t) => {
      const before = await written();
      const answers = new Map<string, number>();
      let acceptedWrites = 0;
      await fc.assert(
        fc.asyncProperty(requestArbitrary(operation), async (request) => {
          const { status, code } = await send(operation, request);
          const label = `${status} ${code ?? ''}`.trim();
          answers.set(label, (answers.get(label) ?? 0) + 1);
          if (status < 400 && operation.method !== 'GET') acceptedWrites++;
        }),
        // No shrinking: a 2,000-character parameter shrinks through thousands of requests; the message
        // already shows the failing request.
        { numRuns: RUNS_PER_OPERATION, seed: SEED, endOnFailure: true },
      );
      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(answers))}`);
      if (acceptedWrites > 0)
        t.diagnostic(`${acceptedWrites} generated requests were valid; writes not compared`);
      else assert.deepEqual(await written(), before, 'a refused request wrote something');
    });
});
