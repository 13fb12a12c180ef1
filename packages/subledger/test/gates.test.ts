import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import express from 'express';
import { type Context, Hono } from 'hono';
import { type CheckCode, type CheckResult, checkFeature } from '../src/access/check.ts';
import type { AccountFacts } from '../src/access/mirror-reads.ts';
import { addMonths } from '../src/access/periods.ts';
import type { SubscriptionStatus } from '../src/access/state.ts';
import { defineCatalog } from '../src/catalog/index.ts';
import { requireFeature as expressGate } from '../src/gates/express.ts';
import type { FeatureChecker } from '../src/gates/gate.ts';
import { requireFeature } from '../src/gates/hono.ts';
import { withFeature } from '../src/gates/next.ts';
import { REFUSAL_STATUS, type RefusalBody, refusalOf, refusalResponse } from '../src/gates/refusal.ts';

const DAY = 86_400;
const NOW = Date.UTC(2026, 10, 22, 12) / 1000;
const PERIOD_START = Date.UTC(2026, 10, 10, 8) / 1000;
const RESETS_AT = addMonths(PERIOD_START, 1);

const catalog = defineCatalog({
  features: {
    members: { type: 'boolean', name: 'Members' },
    sso: { type: 'boolean', name: 'Single sign-on' },
    api_calls: { type: 'metered', name: 'API calls', period: 'month' },
  },
  plans: {
    team: {
      name: 'Team',
      prices: [{ lookupKey: 'team_monthly', unitAmount: 1900, currency: 'usd', interval: 'month' }],
      features: { members: true, api_calls: { limit: 1000 } },
    },
  },
});

function building(accountId: string, status: SubscriptionStatus): AccountFacts {
  const facts = {
    id: `sub_${accountId}`,
    status,
    created: PERIOD_START - 60 * DAY,
    currentPeriodStart: PERIOD_START,
    currentPeriodEnd: RESETS_AT,
    trialEnd: null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    pauseCollection: null,
    // Past due for 30 days: well beyond the 7 days of grace.
    pastDueSince: NOW - 30 * DAY,
  };
  const prices = [{ id: 'price_team', lookupKey: 'team_monthly', productPlan: null }];
  return {
    accountId,
    customerId: `cus_${accountId}`,
    subscriptions: [{ facts, prices }],
    stripeEntitlements: [],
  };
}

const accounts = new Map(
  [
    building('bldg_active', 'active'),
    building('bldg_new', 'incomplete'),
    building('bldg_late', 'past_due'),
  ].map((facts) => [facts.accountId, facts]),
);
/** Uses counted so far this period, by account and feature. */
const usage = new Map([['bldg_active/api_calls', 995]]);

/** A real checker: the pure access rules over in-memory facts and usage, at a fixed now. */
const checker: FeatureChecker = {
  check: async (accountId, featureId, options = {}) =>
    checkFeature(
      catalog,
      accounts.get(accountId) ?? null,
      { featureId, quantity: options.quantity, used: usage.get(`${accountId}/${featureId}`) ?? 0 },
      NOW,
    ),
};
const failing: FeatureChecker = {
  check: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
};

const errorOf = async (response: Response) => ((await response.json()) as RefusalBody).error;

const refused = (code: CheckCode): CheckResult => ({
  allowed: false,
  code,
  state: 'active',
  plan: 'team',
  limit: 1000,
  used: 995,
  remaining: 5,
  resetsAt: RESETS_AT,
});

test('refusals: every code of the checker has its status and the whole body', () => {
  const table: [Exclude<CheckCode, 'allowed'>, number][] = [
    ['subscription_required', 402],
    ['subscription_incomplete', 402],
    ['payment_required', 402],
    ['subscription_paused', 402],
    ['limit_reached', 402],
    ['insufficient_credits', 402],
    ['feature_not_in_plan', 403],
    ['feature_unknown', 403],
  ];
  for (const [code, status] of table) {
    const refusal = refusalOf('api_calls', refused(code));
    assert.equal(refusal.status, status, code);
    const { message, ...error } = refusal.body.error;
    assert.deepEqual(error, {
      code,
      feature: 'api_calls',
      state: 'active',
      plan: 'team',
      limit: 1000,
      used: 995,
      remaining: 5,
      resets_at: RESETS_AT,
    });
    assert.match(message, /"api_calls"/, code);
  }
  const limit = refusalOf('api_calls', refused('limit_reached')).body.error.message;
  assert.match(limit, /limited to 1000 per period: 995 used, 5 left; it resets at 2026-12-10T08:00:00\.000Z/);
  assert.throws(() => refusalOf('api_calls', refused('allowed')), /nothing to refuse/);
});

test("refusals: the gate's own codes carry no account details", () => {
  const table = [
    ['account_required', 401],
    ['invalid_quantity', 400],
    ['access_unavailable', 503],
  ] as const;
  for (const [code, status] of table) {
    const { status: actual, body } = refusalOf('members', code);
    assert.equal(actual, status);
    const { message, ...error } = body.error;
    assert.ok(message.length > 0);
    const none = { state: null, plan: null, limit: null, used: null, remaining: null, resets_at: null };
    assert.deepEqual(error, { code, feature: 'members', ...none });
  }
  assert.equal(Object.keys(REFUSAL_STATUS).length, 11);
});

test('refusals: the web Response carries the status and the JSON body', async () => {
  const response = refusalResponse('members', 'account_required');
  assert.equal(response.status, 401);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal((await errorOf(response)).code, 'account_required');
});

test('gates: a misconfigured gate throws when the app starts, not on a request', () => {
  const accountId = () => 'bldg_active';
  for (const quantity of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => requireFeature(checker, 'api_calls', { accountId, quantity }), RangeError);
  }
  assert.throws(() => expressGate(checker, '', { accountId }), TypeError);
  assert.throws(() => withFeature(checker, 'members', { accountId }, undefined as never), TypeError);
});

/**
 * The product's example, whatever the framework: an active building lets a member join, one whose
 * subscription is incomplete (or missing, or unpaid beyond grace) does not.
 */
async function assertJoinRules(join: (buildingId: string) => Promise<Response>): Promise<void> {
  const active = await join('bldg_active');
  assert.deepEqual([active.status, await active.json()], [201, { joined: true, plan: 'team' }]);
  const refused = [
    ['bldg_new', 'subscription_incomplete', 'incomplete', 'team'],
    ['bldg_nowhere', 'subscription_required', 'none', null],
    ['bldg_late', 'payment_required', 'restricted', 'team'],
  ] as const;
  for (const [buildingId, code, state, plan] of refused) {
    const response = await join(buildingId);
    assert.equal(response.status, 402, buildingId);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const error = await errorOf(response);
    assert.deepEqual([error.code, error.state, error.plan], [code, state, plan]);
  }
}

/** The product's example, for Hono: a building whose subscription is incomplete cannot take members. */
function honoBuildings(gateChecker: FeatureChecker, onError?: (error: unknown) => void) {
  const counts = { joined: 0 };
  const app = new Hono();
  app.post(
    '/buildings/:buildingId/members',
    requireFeature(gateChecker, 'members', { accountId: (c) => c.req.param('buildingId'), onError }),
    (c) => {
      counts.joined += 1;
      return c.json({ joined: true, plan: c.get('access').plan }, 201);
    },
  );
  return { app, counts };
}

test('hono: joining a building whose subscription is incomplete is refused', async () => {
  const { app, counts } = honoBuildings(checker);
  await assertJoinRules(async (buildingId) =>
    app.request(`/buildings/${buildingId}/members`, { method: 'POST' }),
  );
  assert.equal(counts.joined, 1, 'the handler ran for the active building only');
});

test('hono: an account the request does not name is 401; features outside the plan are 403', async () => {
  const app = new Hono();
  const accountId = (c: Context) => c.req.header('x-account-id');
  app.get('/sso', requireFeature(checker, 'sso', { accountId }), (c) => c.text('ok'));
  app.get('/teleport', requireFeature(checker, 'teleport', { accountId }), (c) => c.text('ok'));
  const anonymous = await app.request('/sso');
  assert.equal(anonymous.status, 401);
  assert.equal((await errorOf(anonymous)).code, 'account_required');
  assert.equal((await app.request('/sso', { headers: { 'x-account-id': '  ' } })).status, 401);
  const headers = { 'x-account-id': 'bldg_active' };
  const sso = await app.request('/sso', { headers });
  assert.deepEqual([sso.status, (await errorOf(sso)).code], [403, 'feature_not_in_plan']);
  const teleport = await app.request('/teleport', { headers });
  assert.deepEqual([teleport.status, (await errorOf(teleport)).code], [403, 'feature_unknown']);
});

test('hono: a metered feature counts the quantity asked for, and refuses past the limit', async () => {
  const app = new Hono();
  const gate = requireFeature(checker, 'api_calls', {
    accountId: () => 'bldg_active',
    quantity: (c) => Number(c.req.query('count')),
  });
  app.post('/calls', gate, (c) => c.json({ remaining: c.get('access').remaining }));
  const within = await app.request('/calls?count=5', { method: 'POST' });
  assert.deepEqual([within.status, await within.json()], [200, { remaining: 5 }]);
  const over = await app.request('/calls?count=6', { method: 'POST' });
  assert.equal(over.status, 402);
  const { message, ...error } = await errorOf(over);
  assert.deepEqual(error, {
    code: 'limit_reached',
    feature: 'api_calls',
    state: 'active',
    plan: 'team',
    limit: 1000,
    used: 995,
    remaining: 5,
    resets_at: RESETS_AT,
  });
  for (const count of ['0', '2.5', 'many']) {
    const bad = await app.request(`/calls?count=${count}`, { method: 'POST' });
    assert.deepEqual([bad.status, (await errorOf(bad)).code], [400, 'invalid_quantity'], count);
  }
});

test('hono: a checker that throws is a 503 without internals, and onError hears of it', async () => {
  const errors: unknown[] = [];
  const { app, counts } = honoBuildings(failing, (error) => errors.push(error));
  const response = await app.request('/buildings/bldg_active/members', { method: 'POST' });
  assert.equal(response.status, 503);
  // The body is the fixed refusal: nothing of the error (host, port, stack) reaches the client.
  assert.deepEqual(await response.json(), refusalOf('members', 'access_unavailable').body);
  assert.match(String(errors[0]), /ECONNREFUSED/);
  assert.equal(counts.joined, 0);
});

/** Express behind a real server on a free port. */
async function serve(app: express.Express, t: TestContext): Promise<string> {
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('express: the same building rules over HTTP; the access is in res.locals', async (t) => {
  const errors: unknown[] = [];
  let joined = 0;
  const app = express();
  app.use(express.json());
  const accountId = (req: express.Request<{ buildingId: string }>) => req.params.buildingId;
  app.post('/buildings/:buildingId/members', expressGate(checker, 'members', { accountId }), (_req, res) => {
    joined += 1;
    res.status(201).json({ joined: true, plan: res.locals.access?.plan });
  });
  const quantity = (req: express.Request) => req.body?.count;
  app.post(
    '/buildings/:buildingId/calls',
    expressGate(checker, 'api_calls', { accountId, quantity }),
    (_req, res) => {
      res.json({ remaining: res.locals.access?.remaining });
    },
  );
  const onError = (error: unknown) => errors.push(error);
  app.post('/down/:buildingId', expressGate(failing, 'members', { accountId, onError }), (_req, res) => {
    res.sendStatus(204);
  });
  const url = await serve(app, t);
  const post = (path: string, body: unknown = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  await assertJoinRules((buildingId) => post(`/buildings/${buildingId}/members`));
  assert.equal(joined, 1, 'the handler ran for the active building only');

  const within = await post('/buildings/bldg_active/calls', { count: 5 });
  assert.deepEqual([within.status, await within.json()], [200, { remaining: 5 }]);
  const over = await errorOf(await post('/buildings/bldg_active/calls', { count: 50 }));
  assert.deepEqual([over.code, over.limit, over.used, over.remaining], ['limit_reached', 1000, 995, 5]);
  for (const body of [{ count: '5' }, {}]) {
    const bad = await post('/buildings/bldg_active/calls', body);
    assert.deepEqual([bad.status, (await errorOf(bad)).code], [400, 'invalid_quantity']);
  }

  const down = await post('/down/bldg_active');
  assert.deepEqual([down.status, (await errorOf(down)).code], [503, 'access_unavailable']);
  assert.equal(errors.length, 1);
});

test('next: a route handler wrapped by withFeature refuses before the handler runs', async () => {
  type RouteContext = { params: Promise<{ buildingId: string }> };
  let joined = 0;
  const errors: unknown[] = [];
  const options = {
    accountId: async (_request: Request, { params }: RouteContext) => (await params).buildingId,
    onError: (error: unknown) => errors.push(error),
  };
  const handler = async (_request: Request, _context: RouteContext, access: CheckResult) => {
    joined += 1;
    return Response.json({ joined: true, plan: access.plan }, { status: 201 });
  };
  const POST = withFeature(checker, 'members', options, handler);
  const join = (buildingId: string, route = POST) =>
    route(new Request(`http://localhost/api/buildings/${buildingId}/members`, { method: 'POST' }), {
      params: Promise.resolve({ buildingId }),
    });
  await assertJoinRules((buildingId) => join(buildingId));
  assert.equal((await join('')).status, 401);
  const down = await join('bldg_active', withFeature(failing, 'members', options, handler));
  assert.deepEqual([down.status, (await errorOf(down)).code], [503, 'access_unavailable']);
  assert.equal(errors.length, 1);
  assert.equal(joined, 1, 'the handler ran for the active building only');
});
