import type pg from 'pg';
import type { ProblemCode } from '../../src/credits/verify-problems.ts';

/** Ids in the ledger `credits-verify.test.ts` builds, filled in once it is built. */
export type BuiltLedger = {
  /** acct_a's manual lot: spent from, some left. */
  lot: string;
  /** acct_a's top-up lot. */
  otherLot: string;
  /** acct_h: reserved, not settled. */
  openHold: string;
  /** acct_h: 8 held, 3 spent, 5 given back. */
  committedHold: string;
  /** A consume of acct_a. */
  spendEntry: number;
};

export type Breakage = {
  name: string;
  code: ProblemCode;
  subject: () => string;
  damage: (client: pg.PoolClient) => Promise<unknown>;
};

/** Inserts an entry in its lot's pool (acct_a's when the lot does not exist). */
const entry = (
  client: pg.PoolClient,
  fields: { key: string; kind: string; lot: string; hold?: string; amount: number },
) =>
  client.query(
    `insert into credit_entries (account_id, credit_type, stripe_account, livemode, key, kind, lot_id, hold_id, amount)
     select coalesce(l.account_id, 'acct_a'), coalesce(l.credit_type, 'ai'), coalesce(l.stripe_account, 'platform'),
       coalesce(l.livemode, false), $1, $2, $3, $4, $5
     from (select 1) as one left join credit_lots l on l.id = $3`,
    [fields.key, fields.kind, fields.lot, fields.hold ?? null, fields.amount],
  );

/** The lot an open or closed hold took credits from. */
const lotOfHold = async (client: pg.PoolClient, holdId: string) =>
  (
    await client.query<{ lot_id: string }>(
      `select lot_id from credit_entries where hold_id = $1 and kind = 'hold'`,
      [holdId],
    )
  ).rows[0]?.lot_id as string;

/**
 * Each breakage is made so that exactly one check fails: the other invariants are kept by hand.
 * The ids are read from `built` when a test runs, after the ledger is built.
 */
export const breakagesOf = (built: BuiltLedger): Breakage[] => [
  {
    name: "a lot's remainder changed without an entry",
    code: 'lot_sum_mismatch',
    subject: () => built.lot,
    damage: (client) =>
      client.query('update credit_lots set remaining = remaining - 1 where id = $1', [built.lot]),
  },
  {
    name: 'a spend entry deleted',
    code: 'lot_sum_mismatch',
    subject: () => built.lot,
    damage: (client) => client.query('delete from credit_entries where id = $1', [built.spendEntry]),
  },
  {
    name: 'a lot below zero (its check constraint dropped), with an entry to match',
    code: 'lot_out_of_range',
    subject: () => built.lot,
    damage: async (client) => {
      await client.query('alter table credit_lots drop constraint credit_lots_remaining_check');
      const { rows } = await client.query<{ remaining: number }>(
        'select remaining from credit_lots where id = $1',
        [built.lot],
      );
      await client.query('update credit_lots set remaining = -3 where id = $1', [built.lot]);
      await entry(client, {
        key: 'overdraw',
        kind: 'spend',
        lot: built.lot,
        amount: -3 - Number(rows[0]?.remaining),
      });
    },
  },
  {
    name: 'a second grant entry for a lot (of nothing, under a key of its own)',
    code: 'grant_entry_count',
    subject: () => built.lot,
    damage: (client) =>
      entry(client, { key: 'grant:manual:again', kind: 'grant', lot: built.lot, amount: 0 }),
  },
  {
    name: "a lot's amount no longer its grant entry",
    code: 'grant_entry_count',
    subject: () => built.lot,
    damage: (client) =>
      client.query('update credit_lots set amount = amount + 10 where id = $1', [built.lot]),
  },
  {
    name: "a lot's grant entry carrying another lot's grant key",
    code: 'grant_key_reused',
    subject: () => 'grant:manual:m1',
    damage: (client) =>
      client.query(`update credit_entries set key = 'grant:manual:m1' where lot_id = $1 and kind = 'grant'`, [
        built.otherLot,
      ]),
  },
  {
    name: 'an entry moved to another pool',
    code: 'entry_pool_mismatch',
    subject: () => `entry ${built.spendEntry}`,
    damage: (client) =>
      client.query(`update credit_entries set account_id = 'acct_elsewhere' where id = $1`, [
        built.spendEntry,
      ]),
  },
  {
    name: 'an entry of a lot that does not exist',
    code: 'entry_without_lot',
    subject: () => 'entry',
    damage: (client) => entry(client, { key: 'ghost', kind: 'spend', lot: 'lot_gone', amount: -1 }),
  },
  {
    name: "an open hold's amount changed",
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: (client) =>
      client.query('update credit_holds set amount = amount + 1 where id = $1', [built.openHold]),
  },
  {
    name: "an open hold's allocations naming another lot",
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: (client) =>
      client.query(
        `update credit_holds set allocations = jsonb_build_array(jsonb_build_object('lotId', 'lot_other', 'amount', amount))
         where id = $1`,
        [built.openHold],
      ),
  },
  {
    name: 'an open hold given back in part while still open',
    code: 'hold_mismatch',
    subject: () => built.openHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.openHold);
      await entry(client, { key: 'early', kind: 'release', lot, hold: built.openHold, amount: 1 });
      await client.query('update credit_holds set amount = amount - 1 where id = $1', [built.openHold]);
      await client.query('update credit_lots set remaining = remaining + 1 where id = $1', [lot]);
    },
  },
  {
    name: 'an extra release for a closed hold, the lot credited to match',
    code: 'hold_overreleased',
    subject: () => built.committedHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.committedHold);
      await entry(client, { key: 'again', kind: 'release', lot, hold: built.committedHold, amount: 4 });
      await client.query('update credit_lots set remaining = remaining + 4 where id = $1', [lot]);
    },
  },
  {
    name: 'a closed hold spending more than it held, the lot debited to match',
    code: 'hold_mismatch',
    subject: () => built.committedHold,
    damage: async (client) => {
      const lot = await lotOfHold(client, built.committedHold);
      await entry(client, { key: 'more', kind: 'spend', lot, hold: built.committedHold, amount: -6 });
      await client.query('update credit_lots set remaining = remaining - 6 where id = $1', [lot]);
    },
  },
];
