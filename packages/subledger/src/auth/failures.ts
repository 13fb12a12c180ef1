/** A refused request: `code` is stable and machine-readable; `message` never echoes the credential. */
export type AuthFailure = { status: 401 | 403; code: string; message: string };

const environment = (livemode: boolean) => (livemode ? 'live' : 'test');

/** Every refusal the authenticator gives, one per line. */
export const refuse = {
  authenticationRequired: (): AuthFailure => ({
    status: 401,
    code: 'authentication_required',
    message: 'Authentication required: send the header "Authorization: Bearer <API key>".',
  }),
  // One message for an unknown id and a wrong secret: which part was wrong is a hint to a guesser.
  apiKeyInvalid: (): AuthFailure => ({
    status: 401,
    code: 'api_key_invalid',
    message: 'The API key is not valid.',
  }),
  credentialMalformed: (): AuthFailure => ({
    status: 401,
    code: 'api_key_invalid',
    message: 'The bearer credential is neither a Subledger API key (slk_test_… or slk_live_…) nor a JWT.',
  }),
  apiKeyRevoked: (): AuthFailure => ({
    status: 401,
    code: 'api_key_revoked',
    message: 'The API key has been revoked; create a new one with `subledger keys create`.',
  }),
  apiKeyWrongEnvironment: (keyLivemode: boolean): AuthFailure => ({
    status: 401,
    code: 'api_key_wrong_environment',
    message: `The API key is for the ${environment(keyLivemode)} environment; this server runs in ${environment(!keyLivemode)} mode.`,
  }),
  tokenInvalid: (reason: string): AuthFailure => ({
    status: 401,
    code: 'token_invalid',
    message: `The token was refused: ${reason}.`,
  }),
  tokenAccountMissing: (claim: string): AuthFailure => ({
    status: 401,
    code: 'token_account_missing',
    message: `The token has no "${claim}" claim naming the account it may read.`,
  }),
  tokenAccountInvalid: (claim: string, reason: string): AuthFailure => ({
    status: 401,
    code: 'token_account_invalid',
    message: `The token's "${claim}" claim is not an account id: it ${reason}.`,
  }),
  jwtNotConfigured: (): AuthFailure => ({
    status: 401,
    code: 'jwt_not_configured',
    message:
      'A JWT was presented, but this server accepts API keys only (SUBLEDGER_JWT_JWKS_URL is not set).',
  }),
} as const;
