import type { Database } from '../store/index.ts';
import { type AuthFailure, refuse } from './failures.ts';
import { type ApiKeyParts, parseApiKey, secretMatches } from './key-format.ts';
import { findApiKey, type StoredApiKey, touchApiKey } from './keys.ts';
import type { Principal } from './scopes.ts';

export type KeyResult = { ok: true; principal: Principal } | ({ ok: false } & AuthFailure);

export type KeyVerifierOptions = {
  database: Database;
  /** The server's environment: a key of the other one is refused. */
  livemode: boolean;
  /** How long a stored key is trusted without reading it again: the delay before a revocation bites. */
  cacheMs: number;
  now: () => number;
};

// `last_used_at` is for an operator deciding which keys to revoke: a minute is precise enough, and
// writing it per request would put a row update on every call.
const TOUCH_EVERY_MS = 60_000;

/** A function verifying one `slk_…` bearer value. */
export function createKeyVerifier(options: KeyVerifierOptions): (text: string) => Promise<KeyResult> {
  const stored = storedKeys(options);
  const touch = touches(options);
  return async (text) => {
    const parts = parseApiKey(text);
    if (!parts) return { ok: false, ...refuse.apiKeyInvalid() };
    const verdict = judgeKey(parts, await stored(parts.id), options.livemode);
    if (verdict.ok) await touch(verdict.principal.keyId);
    return verdict;
  };
}

/**
 * The verdict on a presented key, given the row its id names (null: none) and the server's environment.
 * Pure. A key is only revoked or of the wrong environment once its secret is proven: to anyone else it is
 * just invalid.
 */
export function judgeKey(
  parts: ApiKeyParts,
  key: StoredApiKey | null,
  livemode: boolean,
): { ok: true; principal: Extract<Principal, { kind: 'key' }> } | ({ ok: false } & AuthFailure) {
  // An unknown id is answered without hashing, so a little sooner: ids are listed and logged, not secret,
  // and knowing one leaves 256 bits of secret to guess. The environment in the text must agree with the
  // row too: an edited prefix is a wrong key.
  if (!key || key.livemode !== parts.livemode || !secretMatches(parts.secret, key.secretHash))
    return { ok: false, ...refuse.apiKeyInvalid() };
  if (key.revoked) return { ok: false, ...refuse.apiKeyRevoked() };
  if (key.livemode !== livemode) return { ok: false, ...refuse.apiKeyWrongEnvironment(key.livemode) };
  return { ok: true, principal: { kind: 'key', keyId: key.id, scope: key.scope, livemode: key.livemode } };
}

/**
 * Stored keys by id, each read at most once per `cacheMs`; concurrent misses for one id share a read.
 * Only keys that exist stay cached, so the map is bounded by the table, not by what callers send.
 */
function storedKeys({ database, cacheMs, now }: KeyVerifierOptions) {
  const cache = new Map<string, { key: Promise<StoredApiKey | null>; expiresAt: number }>();
  return async (id: string): Promise<StoredApiKey | null> => {
    const hit = cache.get(id);
    if (hit && hit.expiresAt > now()) return hit.key;
    const entry = { key: findApiKey(database, id), expiresAt: now() + cacheMs };
    cache.set(id, entry);
    const forget = () => {
      if (cache.get(id) === entry) cache.delete(id);
    };
    const key = await entry.key.catch((error: unknown) => {
      forget();
      throw error;
    });
    if (!key) forget();
    return key;
  };
}

/** Records a key's use at most once per `TOUCH_EVERY_MS` from this process. */
function touches({ database, now }: KeyVerifierOptions) {
  const touchedAt = new Map<string, number>();
  return async (id: string): Promise<void> => {
    const at = now();
    const last = touchedAt.get(id);
    if (last !== undefined && at - last < TOUCH_EVERY_MS) return;
    touchedAt.set(id, at);
    // A lost write only makes `last_used_at` older; it must not refuse a request whose key is good.
    await touchApiKey(database, id, new Date(at)).catch(() => touchedAt.delete(id));
  };
}
