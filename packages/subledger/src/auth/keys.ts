import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../store/index.ts';
import { API_KEY_SCOPES, apiKeys } from '../store/schema/auth.ts';
import { formatApiKey, generateApiKey, hashSecret } from './key-format.ts';
import type { Scope } from './scopes.ts';

/** A key as listed: everything but its secret, which exists only in the text shown at creation. */
export type ApiKeyInfo = {
  id: string;
  scope: Scope;
  livemode: boolean;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

/** A new key; `key` is the full text, shown once and stored nowhere. */
export type CreatedApiKey = Pick<ApiKeyInfo, 'id' | 'scope' | 'livemode' | 'label' | 'createdAt'> & {
  key: string;
};

/** What verification needs of a stored key. */
export type StoredApiKey = {
  id: string;
  secretHash: string;
  scope: Scope;
  livemode: boolean;
  revoked: boolean;
};

export class ApiKeyError extends Error {
  readonly code = 'api_key_options_invalid';
}

const createSchema = z.object({
  scope: z.enum(API_KEY_SCOPES, { error: 'scope must be read, write or admin' }),
  livemode: z.boolean({ error: 'livemode must be true or false' }),
  label: z
    .string()
    .trim()
    .min(1, 'label must not be empty')
    .max(200, 'label must be at most 200 characters')
    .optional(),
});

/** Creates a key; the returned `key` is the only copy of its secret. */
export async function createApiKey(
  database: Database,
  options: { scope: Scope; livemode: boolean; label?: string | undefined },
): Promise<CreatedApiKey> {
  const parsed = createSchema.safeParse(options);
  if (!parsed.success) throw new ApiKeyError(parsed.error.issues[0]?.message ?? 'invalid key options');
  const { scope, livemode, label } = parsed.data;
  const parts = generateApiKey(livemode);
  const [row] = await database.db
    .insert(apiKeys)
    .values({ id: parts.id, secretHash: hashSecret(parts.secret), scope, livemode, label: label ?? null })
    .returning({ createdAt: apiKeys.createdAt });
  if (!row) throw new Error('inserting an API key returned no row');
  return {
    id: parts.id,
    key: formatApiKey(parts),
    scope,
    livemode,
    label: label ?? null,
    createdAt: row.createdAt,
  };
}

/** Every key, revoked ones included, oldest first; never a secret or its hash. */
export async function listApiKeys(database: Database): Promise<ApiKeyInfo[]> {
  return database.db
    .select({
      id: apiKeys.id,
      scope: apiKeys.scope,
      livemode: apiKeys.livemode,
      label: apiKeys.label,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

/**
 * Revokes a key; false when no key has that id. Revoking twice keeps the first time. Servers that
 * cached the key refuse it once their cache entry expires (seconds).
 */
export async function revokeApiKey(database: Database, id: string): Promise<boolean> {
  const rows = await database.db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(eq(apiKeys.id, id))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** The stored key with that id, or null. */
export async function findApiKey(database: Database, id: string): Promise<StoredApiKey | null> {
  const [row] = await database.db
    .select({
      id: apiKeys.id,
      secretHash: apiKeys.secretHash,
      scope: apiKeys.scope,
      livemode: apiKeys.livemode,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.id, id));
  if (!row) return null;
  const { revokedAt, ...key } = row;
  return { ...key, revoked: revokedAt !== null };
}

/**
 * Records a use at `at`, unless one was recorded in the minute before: several servers using one key
 * write its row about once a minute between them, not once per request.
 */
export async function touchApiKey(database: Database, id: string, at: Date): Promise<void> {
  const minuteBefore = new Date(at.getTime() - 60_000);
  await database.db
    .update(apiKeys)
    .set({ lastUsedAt: at })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, minuteBefore))));
}
