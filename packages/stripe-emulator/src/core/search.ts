import { z } from 'zod';
import { parameterInvalid } from './errors.ts';
import { int } from './params.ts';

/**
 * Stripe's search query language, the part of it apps use: `email:'a@b.c'`,
 * `metadata['account_id']:'42'`, `name~'acme'`, `created>1700000000`, `-status:'canceled'`, `field:null`,
 * clauses joined by all-`AND` or all-`OR`.
 */
export type Clause = {
  negated: boolean;
  field: string;
  metadataKey: string | null;
  operator: ':' | '~' | '>' | '<' | '>=' | '<=';
  value: string | number | null;
};

export type Query = { join: 'AND' | 'OR'; clauses: Clause[] };

const CLAUSE =
  /^(-)?(?:metadata\[(?:'([^']*)'|"([^"]*)")\]|([a-z_][a-z0-9_.]*))(>=|<=|:|~|>|<)(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(null))$/;

export function parseQuery(text: string): Query {
  const { clauses: parts, joins } = splitClauses(text.trim());
  if (parts.some((part) => part === '')) throw invalidQuery(text);
  if (joins.size > 1)
    throw parameterInvalid('query', 'Queries cannot mix AND and OR. Use parentheses-free queries.');
  const join = joins.has('OR') ? 'OR' : 'AND';
  return { join, clauses: parts.map((part) => parseClause(part, text)) };
}

/**
 * The pieces of a query, one after another: a quoted string, whole (a value or a metadata key may hold
 * ` OR `, ` AND ` and quotes escaped with a backslash), a joiner between clauses, or any other character.
 */
const PIECES = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"| (AND|OR) |[^'"]/gy;

/** The query cut into its clauses at the joiners outside quotes, and the joiners it used. */
function splitClauses(text: string): { clauses: string[]; joins: Set<string> } {
  const clauses = [''];
  const joins = new Set<string>();
  let read = 0;
  for (const [piece, join] of text.matchAll(PIECES)) {
    read += piece.length;
    if (join) {
      joins.add(join);
      clauses.push('');
    } else clauses[clauses.length - 1] += piece;
  }
  // Only a quote left open stops the pieces before the end.
  if (read < text.length) throw invalidQuery(text);
  return { clauses: clauses.map((clause) => clause.trim()), joins };
}

function parseClause(part: string, query: string): Clause {
  const match = CLAUSE.exec(part);
  if (!match) throw invalidQuery(query);
  const [, negation, singleKey, doubleKey, field, operator, single, double, number, nullValue] = match;
  const metadataKey = singleKey ?? doubleKey ?? null;
  const value =
    nullValue !== undefined
      ? null
      : number !== undefined
        ? Number(number)
        : unescapeQuoted(single ?? double ?? '');
  if (operator === '~' && (typeof value !== 'string' || value.length < 3))
    throw parameterInvalid('query', 'Substring matching (~) requires a string of at least 3 characters.');
  return {
    negated: negation === '-',
    field: metadataKey !== null ? 'metadata' : (field ?? ''),
    metadataKey,
    operator: operator as Clause['operator'],
    value,
  };
}

const unescapeQuoted = (value: string) => value.replace(/\\(.)/g, '$1');

const invalidQuery = (query: string) =>
  parameterInvalid(
    'query',
    `Invalid query: ${query}. See https://stripe.com/docs/search#search-query-language.`,
  );

/** How a resource exposes its searchable fields. `metadata` is handled for every resource. */
export type SearchFields<T> = Record<string, (row: T) => unknown>;

export function matches<T extends { metadata?: unknown }>(
  row: T,
  query: Query,
  fields: SearchFields<T>,
): boolean {
  const test = (clause: Clause) => clauseMatches(row, clause, fields) !== clause.negated;
  return query.join === 'AND' ? query.clauses.every(test) : query.clauses.some(test);
}

function clauseMatches<T extends { metadata?: unknown }>(
  row: T,
  clause: Clause,
  fields: SearchFields<T>,
): boolean {
  let actual: unknown;
  if (clause.metadataKey !== null)
    actual = (row.metadata as Record<string, string> | null)?.[clause.metadataKey];
  else {
    const read = fields[clause.field];
    if (!read) throw parameterInvalid('query', `Field '${clause.field}' is not a supported search field.`);
    actual = read(row);
  }
  const expected = clause.value;
  switch (clause.operator) {
    case ':':
      if (expected === null) return actual === null || actual === undefined || actual === '';
      return typeof actual === 'string' && typeof expected === 'string'
        ? actual.toLowerCase() === expected.toLowerCase()
        : actual === expected;
    case '~':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase());
    default:
      return (
        typeof actual === 'number' &&
        typeof expected === 'number' &&
        compare(actual, clause.operator, expected)
      );
  }
}

function compare(actual: number, operator: '>' | '<' | '>=' | '<=', expected: number): boolean {
  if (operator === '>') return actual > expected;
  if (operator === '<') return actual < expected;
  if (operator === '>=') return actual >= expected;
  return actual <= expected;
}

export const searchParams = {
  query: z.string(),
  limit: int({ min: 1, max: 100 }).optional(),
  page: z.string().optional(),
};

export type SearchResult<T> = {
  object: 'search_result';
  data: T[];
  has_more: boolean;
  next_page: string | null;
  url: string;
};

/** Runs a search over rows (newest first) and cuts the page the `page` token points at. */
export function search<T extends { metadata?: unknown }>(
  rowsNewestFirst: T[],
  params: { query: string; limit?: number | undefined; page?: string | undefined },
  fields: SearchFields<T>,
  url: string,
): SearchResult<T> {
  const query = parseQuery(params.query);
  const hits = rowsNewestFirst.filter((row) => matches(row, query, fields));
  const offset = params.page ? decodePage(params.page) : 0;
  const limit = params.limit ?? 10;
  const data = hits.slice(offset, offset + limit);
  const hasMore = offset + limit < hits.length;
  return {
    object: 'search_result',
    data,
    has_more: hasMore,
    next_page: hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64url') : null,
    url,
  };
}

function decodePage(page: string): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(page, 'base64url').toString());
  if (!match) throw parameterInvalid('page', `Invalid page: ${page}`);
  return Number(match[1]);
}
