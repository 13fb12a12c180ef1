import Stripe from 'stripe';
import type { z } from 'zod';
import { ApiKeyError } from '../auth/index.ts';
import { ConfigError } from '../config/index.ts';
import { isDatabaseUnavailable } from '../store/index.ts';
import { isStripeUnavailable } from '../stripe/index.ts';

/**
 * What `subledger` exits with: one code per kind of outcome, so that a script or a supervisor can tell
 * "fix the command line" from "try again later" without reading the message. sysexits.h's codes where
 * one fits; 2 stays what reconcile and catalog diff exit with when they find drift.
 */
export const EXIT_CODES = {
  ok: 0,
  failed: 1,
  found: 2,
  usage: 64,
  notFound: 66,
  unavailable: 69,
  config: 78,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

const EXIT_CODE_MEANINGS: [ExitCode, string][] = [
  [EXIT_CODES.ok, 'done; a check found nothing to report'],
  [EXIT_CODES.failed, 'an unexpected failure (internal_error, stripe_refused)'],
  [
    EXIT_CODES.found,
    'a check found something: drift (reconcile, catalog diff), ledger problems (credits verify)',
  ],
  [EXIT_CODES.usage, 'a bad command line: unknown command or option, a missing, invalid or repeated value'],
  [EXIT_CODES.notFound, 'the event, account or API key named does not exist (…_not_found)'],
  [EXIT_CODES.unavailable, 'PostgreSQL or Stripe cannot be reached (…_unavailable): try again later'],
  [EXIT_CODES.config, 'configuration missing or invalid: environment, Stripe key, catalog module'],
];

/** The exit codes as `subledger --help` ends with them (README's table says the same). */
export const EXIT_CODES_HELP = [
  'Exit codes (an error is one line on stderr: "subledger: <code>: <message>"):',
  ...EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padEnd(6)} ${meaning}`),
  `  ${'128+n'.padEnd(6)} stopped by signal n (130: Ctrl-C)`,
].join('\n');

/** A failure the CLI expects: a code for scripts (`event_not_found`), and the exit code of its kind. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A command-line value its schema refuses. */
export const invalidArgument = (message: string) =>
  new CliError('invalid_argument', message, EXIT_CODES.usage);

/** The event, account or key named is not there (`code`: `event_not_found`, …). */
export const notFound = (code: string, message: string) => new CliError(code, message, EXIT_CODES.notFound);

/** A command that reads Stripe, run without a key. */
export const stripeNotConfigured = (message: string) =>
  new CliError('stripe_not_configured', message, EXIT_CODES.config);

/** A command-line value through its schema; refused with the schema's first message (`invalid_argument`). */
export function parseOption<T>(schema: z.ZodType<T, string>, value: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidArgument(parsed.error.issues[0]?.message ?? `invalid value '${value}'`);
  return parsed.data;
}

export type Failure = { code: string; message: string; exitCode: ExitCode };

/** Whatever a command threw, as the one line (`code: message`) and the exit code the CLI ends with (pure). */
export function toFailure(error: unknown): Failure {
  if (error instanceof CliError) return failure(error.code, error.message, error.exitCode);
  if (error instanceof ConfigError) return failure(error.code, error.message, EXIT_CODES.config);
  if (error instanceof ApiKeyError) return failure(error.code, error.message, EXIT_CODES.usage);
  const chain = wrapped(error);
  const database = chain.find(isDatabaseUnavailable);
  if (database)
    return failure(
      'database_unavailable',
      `PostgreSQL cannot be reached (${messageOf(database)})`,
      EXIT_CODES.unavailable,
    );
  const stripe = chain.find((cause) => cause instanceof Stripe.errors.StripeError);
  if (stripe && isStripeUnavailable(stripe))
    return failure(
      'stripe_unavailable',
      `Stripe is not answering (${stripe.type}); try again later`,
      EXIT_CODES.unavailable,
    );
  if (stripe) return failure('stripe_refused', messageOf(error), EXIT_CODES.failed);
  return failure('internal_error', messageOf(error), EXIT_CODES.failed);
}

// One line: a query error's message goes on with its statement and parameters.
const failure = (code: string, message: string, exitCode: ExitCode): Failure => ({
  code,
  message: message.split('\n')[0] ?? '',
  exitCode,
});

/**
 * The error and those it wraps: its `cause`s (drizzle's failed query wraps the driver's error) and the
 * `errors` of an AggregateError (a connection tried at each address of a host).
 */
function wrapped(error: unknown, depth = 0): unknown[] {
  if (error === null || error === undefined || depth > 5) return [];
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  const inner = Array.isArray(errors) ? errors : [];
  return [error, ...[cause, ...inner].flatMap((next) => wrapped(next, depth + 1))];
}

// A refused connection is an AggregateError whose own message is empty.
function messageOf(error: unknown): string {
  const { message, code, errors } = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    errors?: unknown[];
  };
  if (typeof message === 'string' && message) return message;
  if (errors?.[0]) return messageOf(errors[0]);
  return typeof code === 'string' ? code : String(error);
}
