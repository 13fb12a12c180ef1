import type { Database } from '../store/index.ts';
import { type AuthFailure, refuse } from './failures.ts';
import { createJwtVerifier, type JwtOptions } from './jwt.ts';
import { createKeyVerifier } from './key-verifier.ts';
import type { Principal } from './scopes.ts';

export type AuthResult = { ok: true; principal: Principal } | ({ ok: false } & AuthFailure);

export type Authenticator = {
  /**
   * From the raw `Authorization` header value (null when absent). Refusals are values; it throws only
   * when it cannot decide: the database or the JWT key set is unreachable (`AuthUnavailableError`).
   */
  authenticate(authorization: string | null): Promise<AuthResult>;
};

export type AuthenticatorOptions = {
  database: Database;
  /** The server's environment; keys of the other environment are refused. */
  livemode: boolean;
  /** Absent: JWTs are refused with `jwt_not_configured`. */
  jwt?: JwtOptions | undefined;
  /** How long a verified key is trusted before its row is read again; default 10 s. */
  keyCacheMs?: number | undefined;
  now?: (() => number) | undefined;
};

// Revoking a key takes effect on every server within this long.
const KEY_CACHE_MS = 10_000;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
// Three base64url parts; the last may be empty, so an unsigned (`alg: none`) token is refused as a token.
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Turns an `Authorization` header into a principal, or into a coded refusal. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const verifyKey = createKeyVerifier({
    database: options.database,
    livemode: options.livemode,
    cacheMs: options.keyCacheMs ?? KEY_CACHE_MS,
    now,
  });
  const verifyToken = options.jwt ? createJwtVerifier(options.jwt, now) : null;
  return {
    async authenticate(authorization) {
      const credential = bearerOf(authorization);
      if (credential === null) return { ok: false, ...refuse.authenticationRequired() };
      if (credential.startsWith('slk_')) return verifyKey(credential);
      if (!JWT_SHAPE.test(credential)) return { ok: false, ...refuse.credentialMalformed() };
      if (!verifyToken) return { ok: false, ...refuse.jwtNotConfigured() };
      return verifyToken(credential);
    },
  };
}

/** The credential of a `Bearer` header (scheme case-insensitive, as RFC 9110 says); null otherwise. */
export function bearerOf(authorization: string | null): string | null {
  if (authorization === null) return null;
  return BEARER.exec(authorization.trim())?.[1] ?? null;
}
