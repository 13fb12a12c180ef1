import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createEmulator } from '../src/index.ts';
import type { Route } from '../src/server/route.ts';
import { allIds, createFixtures } from './robustness/fixtures.ts';
import { malformedFormBody } from './robustness/form.ts';
import { changedTables, FORM, Probe, replyProblems } from './robustness/probe.ts';
import {
  type Case,
  checkCase,
  knownIdCases,
  unknownIdCases,
  wrongContentTypeCases,
} from './robustness/route-fuzz.ts';
import { requestEnumsByName } from './robustness/spec-enums.ts';

/**
 * Bad input never crashes the emulator: every registered route, fed malformed, random, wrongly typed
 * and schema-shaped parameters, unknown ids and unreadable bodies, answers with Stripe's 4xx error
 * envelope (or, for plausible input, a 200), never a 5xx, a hang or a write it then refuses.
 * ROBUSTNESS_RUNS (default 8) and ROBUSTNESS_SEED widen or vary a run; failures print the request.
 */
const RUNS = Number(process.env.ROBUSTNESS_RUNS ?? 8);
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20_261_028);
const EMULATOR_SEED = 7;

/** Read from a real emulator, so routes added to any module are fuzzed without touching this file. */
const routes: Route[] = createEmulator({ seed: EMULATOR_SEED }).emulator.routes;
const routeName = (route: Route) => `${route.method.toUpperCase()} ${route.path}`;

/** A stable seed per route and property: adding a route does not change what the others get. */
function seedFor(name: string): number {
  let hash = SEED;
  for (const char of name) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash;
}

async function assertCases(probe: Probe, name: string, cases: fc.Arbitrary<Case>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(cases, async (testCase) => {
      assert.deepEqual(await checkCase(probe, testCase), []);
    }),
    { seed: seedFor(name), numRuns: RUNS },
  );
}

async function assertStillAnswers(probe: Probe): Promise<void> {
  const reply = await probe.send({ method: 'GET', path: '/v1/customers?limit=1' });
  assert.equal(reply.status, 200, `server no longer answers: ${reply.text.slice(0, 200)}`);
}

describe('every route answers bad input with a Stripe error (property)', () => {
  const enums = requestEnumsByName();
  assert.ok(routes.length > 50, `only ${routes.length} routes registered`);
  for (const route of routes) {
    it(routeName(route), async () => {
      const probe = await Probe.start(EMULATOR_SEED);
      try {
        const fixtures = await createFixtures(probe);
        const vocabulary = { enums, ids: allIds(fixtures) };
        const name = routeName(route);
        await assertCases(probe, `${name} unknown ids`, unknownIdCases(route, vocabulary));
        await assertCases(probe, `${name} known ids`, knownIdCases(route, vocabulary, fixtures));
        if (route.method === 'post')
          await assertCases(probe, `${name} content type`, wrongContentTypeCases(route, fixtures));
        await assertStillAnswers(probe);
      } finally {
        await probe.close();
      }
    });
  }
});

type Expected = { status: number; code?: string; param?: string; message?: RegExp };

const longKey = 'k'.repeat(41);
const manyKeys = Array.from({ length: 51 }, (_, i) => `metadata[k${i}]=v`).join('&');
const hugeBody = `metadata[note]=${'x'.repeat(1_100_000)}`;

/** Known-malformed requests on core routes, each with the exact error Stripe gives. */
const TABLE: [label: string, method: string, path: string, body: string, expected: Expected][] = [
  [
    'unknown parameter',
    'POST',
    '/v1/customers',
    'emial=a',
    { status: 400, code: 'parameter_unknown', param: 'emial' },
  ],
  [
    'unknown nested parameter',
    'POST',
    '/v1/customers',
    'address[city]=x&address[zip]=1',
    { status: 400, code: 'parameter_unknown', param: 'address[zip]' },
  ],
  [
    'missing nested required',
    'POST',
    '/v1/customers',
    'shipping[address][city]=x',
    { status: 400, code: 'parameter_missing', param: 'shipping[name]' },
  ],
  [
    'not an integer',
    'POST',
    '/v1/customers',
    'balance=abc',
    { status: 400, code: 'parameter_invalid_integer', param: 'balance' },
  ],
  ['array for a scalar', 'POST', '/v1/customers', 'email[0]=a', { status: 400, param: 'email' }],
  ['hash for a scalar', 'POST', '/v1/customers', 'email[x]=a', { status: 400, param: 'email' }],
  ['string for a hash', 'POST', '/v1/customers', 'address=x', { status: 400, param: 'address' }],
  [
    'not one of the values',
    'POST',
    '/v1/customers',
    'tax_exempt=maybe',
    { status: 400, param: 'tax_exempt' },
  ],
  [
    'below the minimum',
    'POST',
    '/v1/customers',
    'next_invoice_sequence=0',
    { status: 400, param: 'next_invoice_sequence', message: /greater than or equal to 1/ },
  ],
  [
    'too many metadata keys',
    'POST',
    '/v1/customers',
    manyKeys,
    { status: 400, param: 'metadata', message: /50 metadata keys/ },
  ],
  [
    'metadata key too long',
    'POST',
    '/v1/customers',
    `metadata[${longKey}]=v`,
    { status: 400, param: 'metadata', message: /40 characters/ },
  ],
  [
    'metadata value too long',
    'POST',
    '/v1/customers',
    `metadata[k]=${'v'.repeat(501)}`,
    { status: 400, param: 'metadata', message: /500 characters/ },
  ],
  [
    'body over 1 MiB',
    'POST',
    '/v1/customers',
    hugeBody,
    { status: 400, param: 'metadata', message: /500 characters/ },
  ],
  [
    'update of an unknown id',
    'POST',
    '/v1/customers/cus_missing',
    'name=x',
    { status: 404, code: 'resource_missing', param: 'id' },
  ],
  ['limit=0', 'GET', '/v1/customers?limit=0', '', { status: 400, param: 'limit' }],
  ['limit=101', 'GET', '/v1/customers?limit=101', '', { status: 400, param: 'limit' }],
  [
    'limit=abc',
    'GET',
    '/v1/customers?limit=abc',
    '',
    { status: 400, code: 'parameter_invalid_integer', param: 'limit' },
  ],
  [
    'unknown starting_after',
    'GET',
    '/v1/customers?starting_after=cus_gone',
    '',
    { status: 404, code: 'resource_missing', param: 'starting_after' },
  ],
  [
    'unknown ending_before',
    'GET',
    '/v1/customers?ending_before=cus_gone',
    '',
    { status: 404, code: 'resource_missing', param: 'ending_before' },
  ],
  [
    'unknown created filter',
    'GET',
    '/v1/customers?created[after]=1',
    '',
    { status: 400, code: 'parameter_unknown', param: 'created[after]' },
  ],
  [
    'search without query',
    'GET',
    '/v1/customers/search',
    '',
    { status: 400, code: 'parameter_missing', param: 'query' },
  ],
  ['search with garbage', 'GET', '/v1/customers/search?query=%28%28%28', '', { status: 400, param: 'query' }],
  [
    'search with a bad page',
    'GET',
    "/v1/customers/search?query=email%3A'a'&page=zzz",
    '',
    { status: 400, param: 'page' },
  ],
  [
    'expand of a missing field',
    'GET',
    '/v1/customers?expand[]=nothing',
    '',
    { status: 400, param: 'expand', message: /cannot be expanded/ },
  ],
  [
    'expand[] too deep',
    'GET',
    '/v1/customers?expand[]=data.a.b.c.d',
    '',
    { status: 400, param: 'expand', message: /more than 4 levels/ },
  ],
  [
    'create with a bad expand',
    'POST',
    '/v1/customers',
    'email=a%40b.c&expand[]=nothing',
    { status: 400, param: 'expand' },
  ],
  [
    'create with an unknown payment method',
    'POST',
    '/v1/customers',
    'payment_method=pm_gone',
    { status: 404, code: 'resource_missing' },
  ],
  [
    'JSON body',
    'POST',
    '/v1/customers',
    '{"email":"a@b.c"}',
    { status: 400, message: /application\/x-www-form-urlencoded/ },
  ],
  ['unknown URL', 'GET', '/v1/nothing_here', '', { status: 404, message: /Unrecognized request URL/ }],
];

describe('known-malformed requests get the exact Stripe error', () => {
  let probe: Probe;
  before(async () => {
    probe = await Probe.start(EMULATOR_SEED);
  });
  after(() => probe.close());

  for (const [label, method, path, body, expected] of TABLE)
    it(label, async () => {
      const countBefore = await customerCount(probe);
      const json = label === 'JSON body';
      const reply = await probe.send({
        method,
        path,
        ...(method === 'POST' ? { body, headers: { 'content-type': json ? 'application/json' : FORM } } : {}),
      });
      assert.deepEqual(replyProblems(reply, false), []);
      const error = (reply.json as { error: Record<string, unknown> }).error;
      assert.equal(reply.status, expected.status, reply.text.slice(0, 300));
      if (expected.code) assert.equal(error.code, expected.code);
      if (expected.param) assert.equal(error.param, expected.param);
      if (expected.message) assert.match(String(error.message), expected.message);
      assert.equal(await customerCount(probe), countBefore, 'a refused request created a customer');
    });
});

/** Every customer, counted through the list endpoint's pages. */
async function customerCount(probe: Probe): Promise<number | null> {
  return listCount(probe, '/v1/customers');
}

/** Objects behind a list endpoint, counted page by page; null when it needs a filter to list at all. */
async function listCount(probe: Probe, path: string): Promise<number | null> {
  let count = 0;
  let cursor = '';
  for (let page = 0; page < 100; page++) {
    const reply = await probe.send({ method: 'GET', path: `${path}?limit=100${cursor}` });
    if (reply.status !== 200) return null;
    const list = reply.json as { data: { id: string }[]; has_more: boolean };
    count += list.data.length;
    if (!list.has_more) return count;
    cursor = `&starting_after=${list.data.at(-1)?.id}`;
  }
  throw new Error(`${path} never ended`);
}

/** Create routes (`POST /v1/x`) whose objects can be counted through `GET /v1/x`. */
const creates = routes.filter(
  (route) =>
    route.method === 'post' &&
    !route.path.includes(':') &&
    routes.some((other) => other.method === 'get' && other.path === route.path),
);

describe('a refused create leaves no object behind (counted through the list endpoint)', () => {
  for (const route of creates)
    it(routeName(route), async () => {
      const probe = await Probe.start(EMULATOR_SEED);
      try {
        const fixtures = await createFixtures(probe);
        const vocabulary = { enums: requestEnumsByName(), ids: allIds(fixtures) };
        const before = await listCount(probe, route.path);
        const storeBefore = probe.storeSnapshot();
        const refused = fc.sample(knownIdCases(route, vocabulary, fixtures), {
          numRuns: 30,
          seed: seedFor(route.path),
        });
        let refusals = 0;
        for (const testCase of refused) {
          // The same parameters, made certain to fail: after the handler could write, or before it.
          const body = String(testCase.request.body ?? '');
          for (const broken of [`${body}&expand[]=no_such_field`, `${body}&zz_unknown=1`]) {
            const reply = await probe.post(route.path, broken);
            assert.deepEqual(replyProblems(reply, false), [], broken.slice(0, 300));
            refusals++;
          }
        }
        assert.equal(await listCount(probe, route.path), before, `${refusals} refused creates left objects`);
        // Lists that need a filter (`customer=`, `subscription=`) cannot count: the store must not change.
        assert.deepEqual(changedTables(storeBefore, probe.storeSnapshot()), []);
      } finally {
        await probe.close();
      }
    });
});

describe('the store undoes a refused request', () => {
  it('rolls back inserts, replaces and deletes in reverse order', () => {
    const store = createEmulator({ seed: 1 }).emulator.store;
    const table = store.partition(null, false).table<{ id: string; v: number }>('thing');
    table.insert({ id: 'a', v: 1 });
    table.insert({ id: 'b', v: 1 });
    const transaction = store.begin();
    table.replace({ id: 'a', v: 2 });
    table.delete('b');
    table.insert({ id: 'c', v: 1 });
    table.delete('a');
    transaction.rollback();
    assert.deepEqual(table.newestFirst(), [
      { id: 'b', v: 1 },
      { id: 'a', v: 1 },
    ]);
    const kept = store.begin();
    table.insert({ id: 'd', v: 1 });
    kept.commit();
    assert.equal(table.size, 3);
  });
});

/** Writes raw bytes to the emulator's socket and resolves with whatever comes back before it closes. */
function rawExchange(port: number, bytes: string, endEarly: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.on('error', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.setTimeout(2_000, () => socket.destroy());
    socket.write(bytes, () => (endEarly ? socket.destroy() : socket.end()));
  });
}

describe('malformed traffic never leaves the server unable to answer', () => {
  let probe: Probe;
  before(async () => {
    probe = await Probe.start(EMULATOR_SEED);
  });
  after(() => probe.close());

  const head = (extra: string) =>
    `POST /v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer sk_test_x\r\nContent-Type: ${FORM}\r\n${extra}`;
  const RAW: [label: string, bytes: string, endEarly: boolean][] = [
    ['a body shorter than its Content-Length', `${head('Content-Length: 100\r\n\r\n')}email=a`, true],
    [
      'broken chunked encoding',
      `${head('Transfer-Encoding: chunked\r\n\r\n')}zz\r\nemail=a\r\n0\r\n\r\n`,
      false,
    ],
    ['a garbage request line', 'NOT HTTP AT ALL\r\n\r\n', false],
    [
      'a request head over 16 KiB',
      `GET /v1/customers?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      false,
    ],
    ['invalid UTF-8 in a form body', `${head('Content-Length: 8\r\n\r\n')}email=\xff\xfe`, false],
  ];
  for (const [label, bytes, endEarly] of RAW)
    it(label, async () => {
      const answer = await rawExchange(probe.running.port, bytes, endEarly);
      assert.doesNotMatch(answer, /^HTTP\/1\.1 5/);
      await assertStillAnswers(probe);
    });

  it('an upload aborted half way', async () => {
    const controller = new AbortController();
    const body = new ReadableStream({
      start(stream) {
        stream.enqueue(new TextEncoder().encode('email=a'));
        setTimeout(() => controller.abort(), 20);
      },
    });
    await assert.rejects(
      fetch(`${probe.running.url}/v1/customers`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_x', 'content-type': FORM },
        body,
        signal: controller.signal,
        duplex: 'half',
      } as RequestInit),
    );
    await assertStillAnswers(probe);
  });

  it('fifty malformed requests at once', async () => {
    const sample = fc.sample(malformedFormBody, { numRuns: 50, seed: SEED });
    const replies = await Promise.all(sample.map((body) => probe.post('/v1/customers', body)));
    for (const reply of replies) assert.deepEqual(replyProblems(reply, true), []);
    await assertStillAnswers(probe);
  });
});
