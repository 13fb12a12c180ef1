import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key as presented: `slk_<test|live>_<id>_<secret>`, where `<id>` is the row id without its
 * `key_` prefix. The id makes the lookup one primary-key read; only the secret's hash is stored.
 */
export type ApiKeyParts = { id: string; livemode: boolean; secret: string };

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 16;
// 43 base62 characters carry 256.03 bits: as much as 32 random bytes. Base62 rather than base64url
// because `_` separates the key's parts and `-` breaks a double-click selection.
const SECRET_LENGTH = 43;
const KEY_PATTERN = new RegExp(
  `^slk_(test|live)_([0-9A-Za-z]{${ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})$`,
);

/** `length` uniformly random base62 characters. */
export function randomBase62(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 × 62: dropping bytes at or above it keeps every character equally likely.
      if (byte < 248 && text.length < length) text += BASE62[byte % 62];
    }
  }
  return text;
}

/** A fresh id and secret for a key of the given environment. */
export function generateApiKey(livemode: boolean): ApiKeyParts {
  return { id: `key_${randomBase62(ID_LENGTH)}`, livemode, secret: randomBase62(SECRET_LENGTH) };
}

export function formatApiKey(key: ApiKeyParts): string {
  return `slk_${key.livemode ? 'live' : 'test'}_${key.id.slice('key_'.length)}_${key.secret}`;
}

/** The parts of a well-formed key; null for anything else (the caller answers `api_key_invalid`). */
export function parseApiKey(text: string): ApiKeyParts | null {
  const match = KEY_PATTERN.exec(text);
  if (!match) return null;
  return { id: `key_${match[2]}`, livemode: match[1] === 'live', secret: match[3] as string };
}

/** What the database keeps of a secret: its SHA-256, lowercase hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` hashes to `secretHash`, in time independent of where they differ. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const presented = createHash('sha256').update(secret).digest();
  const stored = Buffer.from(secretHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
