import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type Database } from '../src/store/index.ts';
import { MAX_PREPARED_PER_CONNECTION } from '../src/store/prepared.ts';
import { type TestDatabase, testDatabase } from './support/database.ts';

/** The statements the one session of `database` has prepared, by name. */
async function preparedOf(database: Database): Promise<Map<string, string>> {
  const { rows } = await database.pool.query<{ name: string; statement: string }>(
    'select name, statement from pg_prepared_statements',
  );
  return new Map(rows.map((row) => [row.name, row.statement]));
}

describe('statements prepared per connection', () => {
  let db: TestDatabase;
  before(async () => {
    db = await testDatabase();
  });
  after(async () => db.drop());

  /** A pool of one connection on the test database: every statement runs in the same session. */
  const oneSession = () => connect(db.url, { max: 1 });

  it('prepares a statement with parameters once, and runs it again by name with new values', async () => {
    const session = oneSession();
    try {
      const text = 'select $1::int + 1 as next';
      assert.equal((await session.pool.query(text, [1])).rows[0].next, 2);
      assert.equal((await session.pool.query({ text, values: [41] })).rows[0].next, 42);
      const client = await session.pool.connect();
      try {
        assert.equal((await client.query(text, [9])).rows[0].next, 10);
      } finally {
        client.release();
      }
      const prepared = [...(await preparedOf(session)).values()];
      assert.deepEqual(
        prepared.filter((statement) => statement === text),
        [text],
      );
    } finally {
      await session.close();
    }
  });

  it('leaves statements without parameters, and named ones, as they are', async () => {
    const session = oneSession();
    try {
      await session.pool.query('select 1 as one');
      await session.pool.query({ name: 'caller_named', text: 'select $1::text as word', values: ['a'] });
      const prepared = await preparedOf(session);
      assert.equal(prepared.get('caller_named'), 'select $1::text as word');
      assert.deepEqual([...prepared.keys()], ['caller_named']);
    } finally {
      await session.close();
    }
  });

  it('answers a statement PostgreSQL refuses with its error every time, and goes on preparing', async () => {
    const session = oneSession();
    try {
      for (let attempt = 0; attempt < 2; attempt++)
        await assert.rejects(session.pool.query('select $1::int +', [1]), { code: '42601' });
      assert.equal((await session.pool.query('select $1::int * 2 as twice', [21])).rows[0].twice, 42);
      assert.ok([...(await preparedOf(session)).values()].includes('select $1::int * 2 as twice'));
    } finally {
      await session.close();
    }
  });

  it('prepares at most a bounded number of statements per connection, and runs the others unprepared', async () => {
    const session = oneSession();
    try {
      const count = MAX_PREPARED_PER_CONNECTION + 20;
      for (let n = 0; n < count; n++) {
        const { rows } = await session.pool.query(`select $1::int + ${n} as sum`, [1]);
        assert.equal(rows[0].sum, n + 1);
      }
      const prepared = await preparedOf(session);
      assert.equal(prepared.size, MAX_PREPARED_PER_CONNECTION);
      assert.ok(![...prepared.values()].includes(`select $1::int + ${count - 1} as sum`));
    } finally {
      await session.close();
    }
  });
});
