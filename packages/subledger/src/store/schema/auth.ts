import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;

/**
 * API keys for the HTTP API. A key's secret is shown once, when it is created; only its SHA-256 is kept,
 * so a copy of this table authenticates nobody.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    /** `key_` and 16 base62 characters; also the middle of the key itself, so a lookup is by primary key. */
    id: text('id').primaryKey(),
    /** Lowercase hex SHA-256 of the key's secret part. */
    secretHash: text('secret_hash').notNull(),
    scope: text('scope', { enum: API_KEY_SCOPES }).notNull(),
    livemode: boolean('livemode').notNull(),
    label: text('label'),
    createdAt: at('created_at').notNull().defaultNow(),
    /** Written at most once a minute per key, not on every request. */
    lastUsedAt: at('last_used_at'),
    revokedAt: at('revoked_at'),
  },
  (table) => [
    check('api_keys_scope_check', sql`${table.scope} in ('read', 'write', 'admin')`),
    check('api_keys_secret_hash_check', sql`${table.secretHash} ~ '^[0-9a-f]{64}$'`),
  ],
);
