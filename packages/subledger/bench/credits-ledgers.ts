import pg from 'pg';
import { createCreditsService } from '../src/credits/index.ts';
import { connect } from '../src/store/index.ts';
import type { Consume } from './credits-load.ts';

/** A ledger under test, on its own database, its accounts granted what the phase says. */
export type Ledger = {
  consume: Consume;
  /** What the tables say each account was granted, has left and spent. */
  books: () => Promise<Book[]>;
  close: () => Promise<void>;
};

export type Book = { accountId: string; granted: number; remaining: number; spent: number };

const CREDIT_TYPE = 'api_calls';
const PLACE = { stripeAccount: 'platform', livemode: false };
/** Grants go in this many at a time: seeding is not measured, but 1,000 one by one takes seconds. */
const SEEDING_IN_FLIGHT = 16;

/** Subledger's credits service on `database.pool` (`connect(url)`'s pool, `poolSize` connections). */
export async function openSubledger(
  url: string,
  grants: ReadonlyMap<string, number>,
  poolSize: number,
): Promise<Ledger> {
  const database = connect(url, { max: poolSize });
  const credits = createCreditsService({ database, place: PLACE });
  const accounts = [...grants.keys()];
  for (let from = 0; from < accounts.length; from += SEEDING_IN_FLIGHT)
    await Promise.all(
      accounts.slice(from, from + SEEDING_IN_FLIGHT).map((accountId) =>
        credits.grant({
          accountId,
          creditType: CREDIT_TYPE,
          amount: grants.get(accountId) as number,
          source: { kind: 'manual', id: `bench-${accountId}` },
        }),
      ),
    );
  await database.pool.query('analyze');
  return {
    async consume(accountId, key) {
      const outcome = await credits.consume({ accountId, creditType: CREDIT_TYPE, amount: 1, key });
      if (outcome.ok) return true;
      if (outcome.code === 'insufficient_credits') return false;
      throw new Error(`consume refused: ${outcome.code}`);
    },
    async books() {
      const { rows } = await database.pool.query<Book>(
        `select l.account_id as "accountId", l.granted, l.remaining, coalesce(e.spent, 0)::bigint as spent
         from (select account_id, sum(amount)::bigint as granted, sum(remaining)::bigint as remaining
               from credit_lots group by account_id) l
         left join (select account_id, -sum(amount)::bigint as spent
                    from credit_entries where kind = 'spend' group by account_id) e using (account_id)`,
      );
      return rows;
    },
    close: () => database.close(),
  };
}

/**
 * The plain approach: one balance row per account, guarded by `balance >= n`, and a ledger entry per
 * spend under a unique key, in one transaction (begin, update, insert, commit) per consume.
 */
export async function openNaive(
  url: string,
  grants: ReadonlyMap<string, number>,
  poolSize: number,
): Promise<Ledger> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  await pool.query(
    `create table naive_balances (account_id text primary key, balance bigint not null check (balance >= 0));
     create table naive_entries (id bigserial primary key, account_id text not null, key text not null unique,
       amount bigint not null, at timestamptz not null default now())`,
  );
  await pool.query('insert into naive_balances select * from unnest($1::text[], $2::bigint[])', [
    [...grants.keys()],
    [...grants.values()],
  ]);
  await pool.query('analyze');
  return {
    async consume(accountId, key) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const updated = await client.query(
          `update naive_balances set balance = balance - $2
           where account_id = $1 and balance >= $2 returning balance`,
          [accountId, 1],
        );
        if (updated.rowCount === 1)
          await client.query('insert into naive_entries (account_id, key, amount) values ($1, $2, $3)', [
            accountId,
            key,
            1,
          ]);
        await client.query('commit');
        return updated.rowCount === 1;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async books() {
      const { rows } = await pool.query<Omit<Book, 'granted'>>(
        `select b.account_id as "accountId", b.balance as remaining, coalesce(e.spent, 0)::bigint as spent
         from naive_balances b
         left join (select account_id, sum(amount)::bigint as spent from naive_entries group by account_id) e
           using (account_id)`,
      );
      // The naive table keeps no grant: what the bench put in is the grant.
      return rows.map((row) => ({ ...row, granted: grants.get(row.accountId) ?? 0 }));
    },
    close: () => pool.end(),
  };
}
