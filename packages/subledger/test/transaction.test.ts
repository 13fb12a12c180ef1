import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { inTransaction, postgresCode, TRANSACTION_ATTEMPTS } from '../src/store/transaction.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

let database: TestDatabase;
before(async () => {
  database = await testDatabase();
});
after(() => database.drop());

/** A statement, sent through Drizzle, that fails with `code` as Postgres's own errors do. */
const failWith = (code: string) =>
  sql.raw(`do $$ begin raise exception 'failed on purpose' using errcode = '${code}'; end $$`);

/** Runs `inTransaction` whose work fails with the codes given, one per attempt, then succeeds. */
async function attemptsUntilDone(codes: string[]): Promise<{ attempts: number; error?: unknown }> {
  let attempts = 0;
  try {
    await inTransaction(database.pool, async (client) => {
      const code = codes[attempts++];
      if (code) await drizzle(client).execute(failWith(code));
    });
    return { attempts };
  } catch (error) {
    return { attempts, error };
  }
}

test('a deadlock or serialization failure under Drizzle’s query wrapper is tried again', async () => {
  assert.deepEqual(await attemptsUntilDone(['40P01']), { attempts: 2 });
  assert.deepEqual(await attemptsUntilDone(['40001', '40P01']), { attempts: 3 });
});

test('the last attempt’s failure, or a failure of another kind, is thrown with its code', async () => {
  const always = await attemptsUntilDone(Array(TRANSACTION_ATTEMPTS + 1).fill('40P01'));
  assert.equal(always.attempts, TRANSACTION_ATTEMPTS);
  assert.equal(postgresCode(always.error), '40P01');
  const other = await attemptsUntilDone(['22012']);
  assert.equal(other.attempts, 1);
  assert.equal(postgresCode(other.error), '22012');
});

test('each attempt is rolled back: what a failed attempt wrote is gone', async () => {
  await database.pool.query('create table attempts_written (attempt int)');
  let attempt = 0;
  await inTransaction(database.pool, async (client) => {
    attempt++;
    await client.query('insert into attempts_written values ($1)', [attempt]);
    if (attempt === 1) await drizzle(client).execute(failWith('40P01'));
  });
  const { rows } = await database.pool.query('select attempt from attempts_written');
  assert.deepEqual(rows, [{ attempt: 2 }]);
});
