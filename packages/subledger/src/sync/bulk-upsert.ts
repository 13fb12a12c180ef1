import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../store/database.ts';

type Executor = Pick<Db, 'execute'>;

/** An array bound as one parameter (drizzle would spread a plain array into a list of parameters). */
export const pgArray = (values: unknown[]) => sql.param(values);

/**
 * How an update writes a field over the row's value: `replace` writes the new value; `merge` lays the
 * new jsonb object's keys over the row's; `coalesce` writes the new value unless it is null.
 */
export type UpdateRule = 'replace' | 'merge' | 'coalesce';

export type UpsertOptions = {
  key: string[];
  updateWhere?: SQL;
  stamped?: readonly string[];
  rules?: Readonly<Record<string, UpdateRule>>;
  returning?: readonly string[];
};

type Rows = Record<string, unknown>[];

/**
 * A multi-row upsert whose rows travel as one JSON document (`jsonb_to_recordset`), not one parameter
 * per cell: a batch of 200 rows is one parameter instead of thousands, which the driver, drizzle's
 * query builder and Postgres's parser each handle far faster. `rows` use the table's field names; the
 * first row's fields name the columns written. It returns the keys of the rows inserted or updated, and
 * the `returning` fields as the rows now hold them. `stamped` fields are written the database's clock as
 * the statement runs, not a row's value. An update replaces each field unless `rules` says otherwise.
 * Null for no rows; run by `writeTogether`, alone or with other writes.
 */
export function upsertStatement(table: PgTable, rows: Rows, options: UpsertOptions): SQL | null {
  const first = rows[0];
  if (!first) return null;
  const columns = getTableColumns(table);
  const stamped = options.stamped ?? [];
  const fields = Object.keys(first).filter(
    (field) => columns[field] !== undefined && !stamped.includes(field),
  );
  const name = (field: string) => `"${columns[field]?.name}"`;
  const document = JSON.stringify(
    rows.map((row) => Object.fromEntries(fields.map((field) => [columns[field]?.name, row[field] ?? null]))),
  );
  const written = [...fields, ...stamped];
  const names = written.map(name).join(', ');
  const values = [...fields.map(name), ...stamped.map(() => 'clock_timestamp()')].join(', ');
  const definitions = fields.map((field) => `${name(field)} ${columns[field]?.getSQLType()}`).join(', ');
  const target = `"${getTableName(table)}"`;
  const updates = written
    .filter((field) => !options.key.includes(field))
    .map(
      (field) => `${name(field)} = ${updatedValue(target, name(field), options.rules?.[field] ?? 'replace')}`,
    )
    .join(', ');
  const returned = [...options.key, ...(options.returning ?? [])];
  return sql`
    insert into ${sql.raw(target)} (${sql.raw(names)})
    select ${sql.raw(values)} from jsonb_to_recordset(${document}::jsonb) as r(${sql.raw(definitions)})
    on conflict (${sql.raw(options.key.map(name).join(', '))}) do update set ${sql.raw(updates)}
    ${options.updateWhere ? sql`where ${options.updateWhere}` : sql``}
    returning ${sql.raw(returned.map(name).join(', '))}`;
}

/**
 * Runs statements that return rows (an upsert of `upsertStatement`, a delete or update with a
 * `returning` clause, a select) as one statement, each a `with` of it: one round trip to the database
 * instead of one each, which is most of what a small write costs on a busy machine. They run on one
 * snapshot, so no two may write the same row (Postgres does not say which would win), and none sees
 * another's writes. Returns each one's rows, in the order given; the values come back as JSON does (a
 * timestamp as a string).
 */
export async function writeTogether(db: Executor, statements: SQL[]): Promise<Rows[]> {
  const [only] = statements;
  if (statements.length <= 1) return only ? [rowsOf(await db.execute(only))] : [];
  const parts = statements.map((statement, index) => sql`${sql.raw(`s${index}`)} as (${statement})`);
  const selects = statements.map((_, index) =>
    sql.raw(`select ${index} as part, to_jsonb(s${index}) as row from s${index}`),
  );
  const result = await db.execute(
    sql`with ${sql.join(parts, sql`, `)} ${sql.join(selects, sql` union all `)}`,
  );
  const returned: Rows[] = statements.map(() => []);
  for (const { part, row } of rowsOf(result) as { part: number; row: Record<string, unknown> }[])
    returned[part]?.push(row);
  return returned;
}

const rowsOf = (result: unknown): Rows => (result as { rows: Rows }).rows;

/** What an update writes to `column` of `table`'s row, by its rule. */
function updatedValue(table: string, column: string, rule: UpdateRule): string {
  const [current, next] = [`${table}.${column}`, `excluded.${column}`];
  switch (rule) {
    case 'replace':
      return next;
    case 'merge':
      return `${current} || ${next}`;
    case 'coalesce':
      return `coalesce(${next}, ${current})`;
  }
}
