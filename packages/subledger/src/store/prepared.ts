import type pg from 'pg';

/**
 * How many statements one connection prepares. The hot ones (the workers' dozen or so per batch, the
 * access and credits statements) are the first to come; statements built from data (a batch's set of
 * object kinds) are bounded too, and past this any further text simply runs unprepared.
 */
export const MAX_PREPARED_PER_CONNECTION = 256;

/**
 * Makes the client prepare each statement that has parameters the first time it sends that text, and
 * reuse it after: PostgreSQL then parses it once per connection and, once it has seen a few runs, may
 * keep one plan for it. A worker's batch then sent some twenty statements, several of them joins whose
 * planning alone took 0.5–4 ms each (`pg_stat_statements`, at 500 webhooks/s). Prepared, PostgreSQL
 * spent 18.3–19.2 s of CPU on the bench's steady phase against 19.4–19.7 s, and workers draining in
 * batches of 40 applied a median 1,295 events/s against 1,235 (six rounds each, in turns, ±15% apart).
 * A statement that names itself keeps its name, a submittable (a cursor) is left alone, and the names
 * are the connection's own.
 */
export function prepareRepeatedStatements(client: pg.PoolClient): void {
  const send = client.query.bind(client) as (...args: unknown[]) => unknown;
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    const known = names.get(text);
    if (known !== undefined || names.size >= MAX_PREPARED_PER_CONNECTION) return known;
    const name = `subledger_${names.size + 1}`;
    names.set(text, name);
    return name;
  };
  const prepared = (...args: unknown[]): unknown => {
    const [statement, values] = args;
    // Text with values is the same statement as a config: one path names both.
    if (typeof statement === 'string')
      return Array.isArray(values) ? prepared({ text: statement, values }, ...args.slice(2)) : send(...args);
    const config = statement as (pg.QueryConfig & { submit?: unknown }) | null;
    const name =
      config && typeof config.submit !== 'function' && !config.name && config.values?.length
        ? nameOf(config.text)
        : undefined;
    return name ? send({ ...config, name }, ...args.slice(1)) : send(...args);
  };
  client.query = prepared as typeof client.query;
}
