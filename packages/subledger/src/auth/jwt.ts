import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { accountIdSchema } from '../sync/account-view.ts';
import { type AuthFailure, refuse } from './failures.ts';
import type { Principal } from './scopes.ts';

/** Browser-facing reads with the app's own identity provider's tokens; off unless configured. */
export type JwtOptions = {
  /** Where the provider publishes its public keys (fetched on first use, cached, refetched for a new `kid`). */
  jwksUrl: string;
  /** The `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must carry; absent: not checked (some providers' session tokens carry none). */
  audience?: string | undefined;
  /** The claim naming the app account the token may read; default `account_id`. */
  accountClaim?: string | undefined;
};

/**
 * The key set could not be loaded (unreachable, not 200, not a key set): the server's trouble, not the
 * caller's, so it is thrown rather than answered 401. The HTTP layer answers it 503.
 */
export class AuthUnavailableError extends Error {
  readonly code = 'auth_unavailable';
}

// Asymmetric only: with an HS* algorithm anyone holding the (public) key set could sign, and `none` signs
// nothing. jose checks this list before it looks up a key.
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export type TokenResult = { ok: true; principal: Principal } | ({ ok: false } & AuthFailure);

/** A function verifying one bearer JWT at the time `now()` gives. */
export function createJwtVerifier(
  options: JwtOptions,
  now: () => number,
): (token: string) => Promise<TokenResult> {
  const keys = keySetOrUnavailable(createRemoteJWKSet(new URL(options.jwksUrl)));
  const claim = options.accountClaim ?? 'account_id';
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        ...(options.audience ? { audience: options.audience } : {}),
        algorithms: ALGORITHMS,
        // A token without `exp` would never expire.
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      if (error instanceof AuthUnavailableError) throw error;
      return { ok: false, ...refuse.tokenInvalid(reasonOf(error)) };
    }
    const accountId = payload[claim];
    if (typeof accountId !== 'string' || accountId === '')
      return { ok: false, ...refuse.tokenAccountMissing(claim) };
    // Compared as it is with the account a request names, which the API holds to the same rule.
    const named = accountIdSchema.safeParse(accountId);
    if (!named.success)
      return {
        ok: false,
        ...refuse.tokenAccountInvalid(claim, named.error.issues[0]?.message ?? 'is invalid'),
      };
    const subject = payload.sub as string;
    return { ok: true, principal: { kind: 'token', subject, accountId, scope: 'read' } };
  };
}

/**
 * The remote key set, with its loading failures told apart from a token naming no key of it: only
 * the errors of choosing a key are the token's fault.
 */
function keySetOrUnavailable(remote: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      )
        throw error;
      throw new AuthUnavailableError('the JWT key set (SUBLEDGER_JWT_JWKS_URL) could not be loaded', {
        cause: error,
      });
    }
  };
}

/** Why jose refused a token, in words that name no part of it. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return 'it is not valid yet';
  if (error instanceof errors.JWTClaimValidationFailed)
    return error.reason === 'missing'
      ? `it has no "${error.claim}" claim`
      : `its "${error.claim}" claim is not the one this server accepts`;
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'its algorithm is not accepted (asymmetric signatures only)';
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  )
    return 'its signature does not match a key of the configured key set';
  return 'it is not a well-formed signed JWT';
}
