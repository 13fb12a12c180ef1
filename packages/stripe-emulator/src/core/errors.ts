/**
 * Stripe's error envelope. Every failure the emulator reports to a client is one of these, so that the
 * official SDK raises the same error classes (`StripeInvalidRequestError`, `StripeCardError` …) it would
 * raise against api.stripe.com.
 */
export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error';

export type StripeErrorBody = {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  request_log_url?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
};

export class StripeError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;

function invalidRequest(status: number, message: string, code?: string, param?: string): StripeError {
  return new StripeError(status, {
    type: 'invalid_request_error',
    message,
    ...(code ? { code, doc_url: docUrl(code) } : {}),
    ...(param ? { param } : {}),
  });
}

export const resourceMissing = (objectName: string, id: string, param = 'id') =>
  invalidRequest(404, `No such ${objectName}: '${id}'`, 'resource_missing', param);

export const parameterMissing = (param: string) =>
  invalidRequest(400, `Missing required param: ${param}.`, 'parameter_missing', param);

export const parameterUnknown = (param: string) =>
  invalidRequest(
    400,
    `Received unknown parameter: ${param}. Did you mean to pass it in a different place?`,
    'parameter_unknown',
    param,
  );

export const parameterInvalidInteger = (param: string, value: unknown) =>
  invalidRequest(400, `Invalid integer: ${String(value)}`, 'parameter_invalid_integer', param);

export const parameterInvalidEmpty = (param: string) =>
  invalidRequest(
    400,
    `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    'parameter_invalid_empty',
    param,
  );

export const parameterInvalid = (param: string, message: string) =>
  invalidRequest(400, message, undefined, param);

/** A request that is well-formed but not allowed in the object's current state. */
export const invalidState = (message: string, param?: string, code?: string) =>
  invalidRequest(400, message, code, param);

export const urlNotFound = (method: string, path: string) =>
  invalidRequest(
    404,
    `Unrecognized request URL (${method.toUpperCase()}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  );

export const notAuthenticated = (message: string) =>
  new StripeError(401, { type: 'invalid_request_error', message });

export const idempotencyMismatch = (key: string) =>
  new StripeError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });

export const rateLimited = () =>
  new StripeError(429, {
    type: 'rate_limit_error',
    code: 'rate_limit',
    doc_url: docUrl('rate_limit'),
    message:
      'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
  });

export const apiError = (status: number) =>
  new StripeError(status, {
    type: 'api_error',
    message: 'An unknown error occurred. This is an emulated fault.',
  });

export type CardErrorDetails = { code: string; declineCode?: string; message: string; param?: string };

export const cardError = (details: CardErrorDetails, extra: Partial<StripeErrorBody> = {}) =>
  new StripeError(402, {
    type: 'card_error',
    code: details.code,
    doc_url: docUrl(details.code),
    message: details.message,
    ...(details.declineCode ? { decline_code: details.declineCode } : {}),
    ...(details.param ? { param: details.param } : {}),
    ...extra,
  });
