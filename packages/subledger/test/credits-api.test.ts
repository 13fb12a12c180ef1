import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Stack, startStack } from './support/stack.ts';

/** Prepaid credits over HTTP: spends, holds, grants by hand, team pools and the account's statement. */
let stack: Stack;
before(async () => {
  stack = await startStack({ webhookEndpoint: false });
});
after(() => stack.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Any answer of the credits routes: the fields a test reads. */
type Answer = {
  error: { code: string; message: string };
  feature: string;
  balance: number;
  hold_id: string;
  lot_id: string;
  granted: boolean;
};

async function answer(response: Response, status: number): Promise<Answer> {
  const body = (await response.json()) as Answer;
  assert.equal(response.status, status, JSON.stringify(body));
  return body;
}

const grant = (accountId: string, amount: number, key: string) =>
  post('/v1/credits/grant', {
    account_id: accountId,
    amount,
    reason: 'welcome credits',
    idempotency_key: key,
  });

test('a spend the pool cannot cover is 402 insufficient_credits with the balance; nothing moves', async () => {
  const none = await answer(
    await post('/v1/credits/consume', { account_id: 'acct_empty', amount: 1, idempotency_key: 'e1' }),
    402,
  );
  assert.deepEqual(none, {
    error: { code: 'insufficient_credits', message: 'the pool does not have enough credits' },
    balance: 0,
  });
  await answer(await grant('acct_short', 10, 'g-short'), 200);
  const short = await answer(
    await post('/v1/credits/consume', { account_id: 'acct_short', amount: 11, idempotency_key: 's1' }),
    402,
  );
  assert.equal(short.balance, 10);
  const spent = await answer(
    await post('/v1/credits/consume', { account_id: 'acct_short', amount: 10, idempotency_key: 's2' }),
    200,
  );
  assert.deepEqual(spent, { feature: 'ai_credits', balance: 0 });
});

test('a grant by hand applies once per key; a consume retried with its key spends once', async () => {
  const first = await answer(await grant('acct_once', 100, 'g-once'), 200);
  const again = await answer(await grant('acct_once', 100, 'g-once'), 200);
  assert.deepEqual(
    [first.granted, again.granted, again.balance, again.lot_id],
    [true, false, 100, first.lot_id],
  );
  const body = { account_id: 'acct_once', amount: 30 };
  const spends = await Promise.all(
    Array.from({ length: 5 }, () => post('/v1/credits/consume', body, { 'Idempotency-Key': 'c-once' })),
  );
  for (const spend of spends)
    assert.deepEqual(await answer(spend, 200), { feature: 'ai_credits', balance: 70 });
  const missing = await answer(await post('/v1/credits/consume', body), 400);
  assert.equal(missing.error.code, 'idempotency_key_required');
  const unknown = await answer(
    await post('/v1/credits/consume', { ...body, feature: 'api_calls', idempotency_key: 'x' }),
    400,
  );
  assert.equal(unknown.error.code, 'unknown_credits_feature');
});

test('reserve → partial commit returns the rest; a closed hold is 404; release and expiry give all back', async () => {
  await answer(await grant('acct_hold', 100, 'g-hold'), 200);
  const hold = await answer(
    await post('/v1/credits/reserve', {
      account_id: 'acct_hold',
      amount: 60,
      idempotency_key: 'r1',
      ttl_seconds: 60,
    }),
    200,
  );
  assert.equal(hold.balance, 40);
  assert.match(hold.hold_id, /^hold_/);
  const blocked = await answer(
    await post('/v1/credits/consume', { account_id: 'acct_hold', amount: 41, idempotency_key: 'c1' }),
    402,
  );
  assert.equal(blocked.balance, 40, 'held credits cannot be spent twice');
  const over = await answer(await post(`/v1/credits/holds/${hold.hold_id}/commit`, { amount: 61 }), 409);
  assert.equal(over.error.code, 'commit_exceeds_hold');
  const committed = await answer(await post(`/v1/credits/holds/${hold.hold_id}/commit`, { amount: 25 }), 200);
  assert.deepEqual(committed, { feature: 'ai_credits', balance: 75, hold_id: hold.hold_id });
  const again = await answer(await post(`/v1/credits/holds/${hold.hold_id}/commit`, {}), 200);
  assert.equal(again.balance, 75, 'a retried commit answers the same and spends nothing more');
  const released = await answer(await post(`/v1/credits/holds/${hold.hold_id}/release`, {}), 404);
  assert.equal(released.error.code, 'hold_not_found');

  const second = await answer(
    await post('/v1/credits/reserve', { account_id: 'acct_hold', amount: 75, idempotency_key: 'r2' }),
    200,
  );
  assert.equal(second.balance, 0);
  assert.equal(
    (await answer(await post(`/v1/credits/holds/${second.hold_id}/release`, {}), 200)).balance,
    75,
  );
  const unknown = await answer(await post('/v1/credits/holds/hold_nope/commit', {}), 404);
  assert.equal(unknown.error.code, 'hold_not_found');
  const malformed = await answer(await post('/v1/credits/holds/nope/commit', {}), 400);
  assert.equal(malformed.error.code, 'invalid_hold_id');
});

test("a member spends the team's pool: the entry names both; the statement and timeline show it", async () => {
  await answer(await grant('team_7', 50, 'g-team'), 200);
  await answer(
    await post('/v1/credits/consume', {
      account_id: 'team_7',
      member_id: 'user_ada',
      amount: 8,
      idempotency_key: 'm1',
    }),
    200,
  );
  const statement = await stack.client.GET('/v1/accounts/{account_id}/credits', {
    params: { path: { account_id: 'team_7' } },
  });
  assert.equal(statement.response.status, 200);
  const pool = statement.data?.pools[0];
  assert.deepEqual(
    [pool?.feature, pool?.balance, pool?.held, pool?.lots[0]?.remaining],
    ['ai_credits', 42, 0, 42],
  );
  assert.equal(pool?.lots[0]?.source.kind, 'manual');
  const [spend, granted] = statement.data?.entries ?? [];
  assert.deepEqual([spend?.kind, spend?.amount, spend?.spender], ['spend', -8, 'user_ada']);
  assert.deepEqual([granted?.kind, granted?.amount], ['grant', 50]);
  const { rows } = await stack.database.pool.query(
    `select account_id, spender from credit_entries where kind = 'spend' and account_id = 'team_7'`,
  );
  assert.deepEqual(rows, [{ account_id: 'team_7', spender: 'user_ada' }], "the team's pool paid");
  const timeline = await stack.client.GET('/v1/accounts/{account_id}/timeline', {
    params: { path: { account_id: 'team_7' } },
  });
  assert.deepEqual(
    timeline.data?.credits.map((entry) => [entry.kind, entry.amount]),
    [
      ['spend', -8],
      ['grant', 50],
    ],
  );
});

test('a check of a credits feature answers from the pool: allowed while it holds the quantity', async () => {
  const { access } = stack.subledger;
  await answer(await grant('acct_check', 40, 'g-check'), 200);
  const enough = await access.check('acct_check', 'ai_credits', { quantity: 40 });
  assert.deepEqual(
    [enough.allowed, enough.code, enough.remaining, enough.state],
    [true, 'allowed', 40, 'none'],
  );
  const short = await access.check('acct_check', 'ai_credits', { quantity: 41 });
  assert.deepEqual([short.allowed, short.code, short.remaining], [false, 'insufficient_credits', 40]);
  await answer(
    await post('/v1/credits/consume', { account_id: 'acct_check', amount: 39, idempotency_key: 'k1' }),
    200,
  );
  const after = await stack.client.POST('/v1/check', {
    body: { account_id: 'acct_check', feature: 'ai_credits', quantity: 2 },
  });
  assert.deepEqual(
    [after.data?.allowed, after.data?.code, after.data?.remaining],
    [false, 'insufficient_credits', 1],
  );
  const nothing = await access.check('acct_nothing', 'ai_credits');
  assert.deepEqual([nothing.allowed, nothing.code, nothing.remaining], [false, 'insufficient_credits', 0]);
});
