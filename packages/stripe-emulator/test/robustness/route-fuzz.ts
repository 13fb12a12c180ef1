import fc from 'fast-check';
import type { z } from 'zod';
import { parseFormEncoded } from '../../src/core/params.ts';
import type { Route } from '../../src/server/route.ts';
import { allIds, type FixtureIds, idsForSegment } from './fixtures.ts';
import { encode, encodeForm, type FormValue, malformedFormBody, nastyString, randomParams } from './form.ts';
import { changedTables, describeRequest, FORM, type Probe, type RawRequest, replyProblems } from './probe.ts';
import { type Vocabulary, valuesFor } from './schema-inputs.ts';

/** A generated request and what it must get: `mustFail` when no correct emulator could say 200. */
export type Case = { request: RawRequest; mustFail: boolean };

/** Node refuses request heads over 16 KiB (431) before the emulator sees them; see the transport tests. */
const MAX_QUERY_LENGTH = 6_000;

const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1] as string);

/** Ids that exist nowhere, some of them hostile to URL parsing and routing. */
const unknownId: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.stringMatching(
      /^(cus|prod|price|sub|in|pi|pm|seti|cs|evt|we|mtr|feat|x)_[A-Za-z0-9]{1,24}$/,
    ),
  },
  {
    weight: 2,
    arbitrary: nastyString.filter((id) => id !== '' && id.length < 5_000).map(encode),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%ZZ', '%E0%A4%A', '%00', '..', '.', '%2F', 'a%2Fb', 'search', 'null', '%20'),
  },
  { weight: 1, arbitrary: fc.constant('x'.repeat(3_000)) },
);

/** Header sets a client gets wrong: no key, a malformed key, odd accounts, versions and idempotency keys. */
const oddHeaders: fc.Arbitrary<{ headers: Record<string, string>; unauthenticated: boolean }> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ headers: {}, unauthenticated: false }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '',
        'Bearer',
        'Bearer sk_test_',
        'Bearer pk_test_abc',
        'Basic !!!',
        'sk_live_',
        'Bearer sk_test_ä',
      )
      .map((authorization) => ({ headers: { authorization }, unauthenticated: true })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        'stripe-account': fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
        'stripe-version': fc.constantFrom('2020-08-27', 'garbage', '2099-01-01.future', 'ÿ'),
      })
      .map((headers) => ({ headers, unauthenticated: false })),
  },
);

function pathWith(route: Route, idFor: (param: string, segment: string) => string): string {
  const segments = route.path.split('/');
  return segments
    .map((segment, index) =>
      segment.startsWith(':') ? idFor(segment.slice(1), segments[index - 1] ?? '') : segment,
    )
    .join('/');
}

const shapeKeys = (route: Route) =>
  new Set(
    Object.keys((route.params as unknown as { _zod: { def: { shape?: object } } })._zod.def.shape ?? {}),
  );

/** Top-level parameter names the route's strict schema rejects (so the request must be a 400). */
function hasUnknownParam(route: Route, encoded: string): boolean {
  const known = shapeKeys(route);
  return Object.keys(parseFormEncoded(encoded)).some((key) => key !== 'expand' && !known.has(key));
}

/** Puts encoded parameters where the method reads them: the query for GET and DELETE, the body for POST. */
function place(route: Route, path: string, encoded: string, headers: Record<string, string>): RawRequest {
  const method = route.method.toUpperCase();
  if (route.method !== 'post') {
    return { method, path: encoded ? `${path}?${encoded}` : path, headers };
  }
  return { method, path, headers: { 'content-type': FORM, ...headers }, body: encoded };
}

/**
 * Requests with the route's path parameters set to ids that do not exist and parameters that are random,
 * malformed, or shaped like the route's own: every one must be a 4xx (there is nothing to find).
 */
export function unknownIdCases(route: Route, vocabulary: Vocabulary): fc.Arbitrary<Case> {
  const ids = fc.array(unknownId, { minLength: 4, maxLength: 4 });
  const params = fc.oneof(
    randomParams.map(encodeForm),
    malformedFormBody,
    valuesFor(route.params as z.ZodType, '', vocabulary).map((value) =>
      encodeForm(value as Record<string, FormValue>),
    ),
  );
  return fc.tuple(ids, params, oddHeaders).map(([idList, fullParams, { headers, unauthenticated }]) => {
    const encoded = route.method === 'post' ? fullParams : fullParams.slice(0, MAX_QUERY_LENGTH);
    let next = 0;
    const path = pathWith(route, () => idList[next++ % idList.length] as string);
    const mustFail = pathParams(route.path).length > 0 || unauthenticated || hasUnknownParam(route, encoded);
    return { request: place(route, path, encoded, headers), mustFail };
  });
}

/** Bodies a form endpoint cannot read: JSON, plain text, raw bytes, each under various content types. */
export function wrongContentTypeCases(route: Route, fixtures: FixtureIds): fc.Arbitrary<Case> {
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.constantFrom('{"email":"a@b.c"}', '<xml/>', '\u0000\u0001', 'email=a%40b.c'),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'text/plain',
    'application/octet-stream',
    'multipart/form-data; boundary=xyz',
    'application/x-www-form-urlencoded; charset=utf-16',
    FORM,
    '',
  );
  return fc.tuple(body, contentType).map(([payload, type]) => {
    const path = pathWith(route, (_, segment) => idsForSegment(fixtures, segment)[0] ?? 'unknown_id');
    const headers: Record<string, string> = type ? { 'content-type': type } : {};
    const readable = type.includes('x-www-form-urlencoded') || type.includes('multipart');
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString();
    const mustFail = !readable || hasUnknownParam(route, text);
    return { request: { method: 'POST', path, headers, body: payload }, mustFail };
  });
}

/**
 * Parameters shaped like the route's schema, with path parameters naming fixture objects (or any id):
 * these reach the handlers, which may succeed or refuse, but must never fail.
 */
export function knownIdCases(route: Route, vocabulary: Vocabulary, fixtures: FixtureIds): fc.Arbitrary<Case> {
  const everyId = allIds(fixtures);
  const idFor = (segment: string) => {
    const matching = idsForSegment(fixtures, segment);
    return fc.oneof(
      { weight: 4, arbitrary: matching.length > 0 ? fc.constantFrom(...matching) : fc.constant('none') },
      { weight: 1, arbitrary: everyId.length > 0 ? fc.constantFrom(...everyId) : fc.constant('none') },
    );
  };
  const segments = route.path.split('/');
  const ids = fc.tuple(
    ...segments.map((segment, index) =>
      segment.startsWith(':') ? idFor(segments[index - 1] ?? '') : fc.constant(''),
    ),
  );
  const params = valuesFor(route.params as z.ZodType, '', vocabulary).map((value) =>
    encodeForm(value as Record<string, FormValue>),
  );
  const expandParam = fc.oneof(
    { weight: 5, arbitrary: fc.constant('') },
    {
      weight: 1,
      arbitrary: fc
        .array(
          fc.constantFrom(
            'customer',
            'data.customer',
            'latest_invoice.payment_intent',
            'x.y.z',
            'a.b.c.d.e',
            'items',
          ),
          {
            maxLength: 2,
          },
        )
        .map((paths) => paths.map((p, i) => `expand[${i}]=${encode(p)}`).join('&')),
    },
  );
  const idempotency = fc.option(fc.stringMatching(/^[a-z0-9-]{8,20}$/), { freq: 4 });
  return fc.tuple(ids, params, expandParam, idempotency).map(([idList, fullParams, expand, key]) => {
    const encoded = route.method === 'post' ? fullParams : fullParams.slice(0, MAX_QUERY_LENGTH);
    const path = segments
      .map((segment, index) => (segment.startsWith(':') ? idList[index] : segment))
      .join('/');
    const joined = [encoded, expand].filter(Boolean).join('&');
    const headers: Record<string, string> = key && route.method !== 'get' ? { 'idempotency-key': key } : {};
    return { request: place(route, path, joined, headers), mustFail: hasUnknownParam(route, encoded) };
  });
}

/** Sends one case and lists what is wrong with the outcome (reply shape, status, partial writes). */
export async function checkCase(probe: Probe, testCase: Case): Promise<string[]> {
  const before = probe.storeSnapshot();
  let reply: Awaited<ReturnType<Probe['send']>>;
  try {
    reply = await probe.send(testCase.request);
  } catch (error) {
    return [`no reply (${(error as Error).message}) to ${describeRequest(testCase.request)}`];
  }
  const problems = replyProblems(reply, !testCase.mustFail);
  if (reply.status === 400 || reply.status === 404) {
    const changed = changedTables(before, probe.storeSnapshot());
    if (changed.length > 0) problems.push(`rejected with ${reply.status} but wrote to ${changed.join(', ')}`);
  }
  return problems.length > 0 ? [...problems, `request: ${describeRequest(testCase.request)}`] : [];
}
