/**
 * What the mirror tells access caches when it commits a change: a Postgres notification on one channel,
 * naming what changed, delivered to every listening process when (and only if) the transaction commits.
 */
export const ACCESS_CHANNEL = 'subledger_access';

/** What a change touches: a customer's facts, an account's link or usage, or the whole catalog. */
export type AccessChange =
  | { kind: 'customer'; id: string }
  | { kind: 'account'; id: string }
  | { kind: 'usage'; id: string }
  | { kind: 'catalog' };

const PREFIX = { customer: 'c:', account: 'a:', usage: 'u:' } as const;
const CATALOG = '*';

/** Postgres refuses a payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;

/**
 * The payloads that carry `changes`, each under Postgres's limit; duplicates are sent once. A payload
 * is a JSON array of tokens, so an id may hold any character.
 */
export function encodeChanges(changes: Iterable<AccessChange>): string[] {
  const tokens = new Set<string>();
  for (const change of changes)
    tokens.add(change.kind === 'catalog' ? CATALOG : `${PREFIX[change.kind]}${change.id}`);
  const payloads: string[] = [];
  let batch: string[] = [];
  let bytes = 2;
  for (const token of tokens) {
    const size = Buffer.byteLength(JSON.stringify(token)) + 1;
    if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      payloads.push(JSON.stringify(batch));
      batch = [];
      bytes = 2;
    }
    batch.push(token);
    bytes += size;
  }
  if (batch.length > 0) payloads.push(JSON.stringify(batch));
  return payloads;
}

/** The changes one payload names; a payload or token it cannot read (a newer version's) names none. */
export function decodeChanges(payload: string): AccessChange[] {
  let tokens: unknown;
  try {
    tokens = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!Array.isArray(tokens)) return [];
  return tokens.flatMap((token): AccessChange[] => (typeof token === 'string' ? changeOf(token) : []));
}

function changeOf(token: string): AccessChange[] {
  if (token === CATALOG) return [{ kind: 'catalog' }];
  const id = token.slice(2);
  if (token.startsWith(PREFIX.customer)) return [{ kind: 'customer', id }];
  if (token.startsWith(PREFIX.account)) return [{ kind: 'account', id }];
  if (token.startsWith(PREFIX.usage)) return [{ kind: 'usage', id }];
  return [];
}

/** Sends the payloads in one statement; inside a transaction they go out at its commit. */
export const NOTIFY_CHANGES = `select pg_notify('${ACCESS_CHANNEL}', payload) from unnest($1::text[]) as payload`;
