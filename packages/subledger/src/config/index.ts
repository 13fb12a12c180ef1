import { z } from 'zod';
import { isLiveKey } from '../stripe/key-mode.ts';

/** A configuration value that cannot be used; `code` is stable, `message` names the variable. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
}

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

/**
 * A webhook signing secret as written: `test:whsec_…` or `live:whsec_…` names the mode of the endpoint it
 * belongs to; with no prefix, it belongs to the mode of `STRIPE_SECRET_KEY` (resolved by `loadConfig`).
 * Signing secrets hold no `:` nor spaces, so anything else is a mistake: refused rather than kept as a
 * secret that can never verify. The message never repeats the value.
 */
const WEBHOOK_SECRET_ENTRY = /^(?:(test|live):)?([^:\s]+)$/;
const webhookSecretEntry = z
  .string()
  .regex(
    WEBHOOK_SECRET_ENTRY,
    'must list signing secrets, each as it is or prefixed with test: or live: (e.g. live:whsec_…)',
  )
  .transform((entry) => {
    const [, mode, secret] = WEBHOOK_SECRET_ENTRY.exec(entry) ?? [];
    return { secret: secret as string, mode: mode as 'test' | 'live' | undefined };
  });

const webhookSecretList = commaList.pipe(z.array(webhookSecretEntry)).default([]);

/** Stripe refuses a metadata key longer than this, or holding `[` or `]`. */
const METADATA_KEY_MAX = 40;

/**
 * Why a key of `SUBLEDGER_ACCOUNT_KEYS` can never name an account, or is a mistake; null when it is
 * fine. `client_reference_id` is the checkout session's own field, always read after the keys: listed,
 * it would be looked up in the session's metadata instead, where Stripe never puts it.
 */
function accountKeyProblem(key: string, index: number, keys: string[]): string | null {
  const listed = `lists ${JSON.stringify(key)}`;
  if (key.length > METADATA_KEY_MAX)
    return `${listed}: Stripe allows a metadata key at most ${METADATA_KEY_MAX} characters`;
  if (/[[\]]/.test(key)) return `${listed}: Stripe refuses [ and ] in a metadata key`;
  if (key === 'client_reference_id')
    return `${listed}: the session's own client_reference_id is always read, after these metadata keys`;
  if (keys.indexOf(key) < index) return `${listed} twice`;
  return null;
}

/** The checkout-session metadata keys that name an app account (see `Config.accountKeys`). */
const accountKeyList = commaList.superRefine((keys, context) => {
  for (const [index, key] of keys.entries()) {
    const problem = accountKeyProblem(key, index, keys);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }
});

const positive = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .refine((value) => value > 0, 'must be greater than 0');

const positiveInt = (fallback: number) => positive.default(fallback);

/** A TCP port; `lowest` 0 lets the system pick a free one. */
const portNumber = (fallback: number, lowest: 0 | 1) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a port number')
    .transform(Number)
    .refine((port) => port >= lowest && port <= 65_535, `must be a port number (${lowest} to 65535)`)
    .default(fallback);

const wholeNumber = (fallback: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).default(fallback);

const environmentSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key (sk_test_…, sk_live_… or rk_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: webhookSecretList,
  STRIPE_CONNECT_WEBHOOK_SECRET: webhookSecretList,
  STRIPE_API_BASE: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  PORT: portNumber(4100, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SUBLEDGER_DATA_DIR: z.string().min(1).default('.subledger'),
  SUBLEDGER_EMBEDDED_PG_PORT: portNumber(54329, 1),
  SUBLEDGER_ACCOUNT_KEYS: accountKeyList.default(['subledger_account_id']),
  // The schedule runs at the minutes of the UTC day that divide by it, so a day is the longest interval.
  SUBLEDGER_RECONCILE_MINUTES: wholeNumber(15).refine(
    (minutes) => minutes <= 1440,
    'must be at most 1440 (once a day), or 0 to turn it off',
  ),
  SUBLEDGER_STRIPE_RPS: positiveInt(20),
  SUBLEDGER_WORKER_BATCH: positiveInt(2000).refine(
    (events) => events <= 100_000,
    'must be at most 100000 (a claim holds that many rows locked in one transaction)',
  ),
  SUBLEDGER_WORKER_GATHER_MS: wholeNumber(50),
  SUBLEDGER_CATALOG: z
    .string()
    .regex(
      /\.(ts|mts|js|mjs)$/,
      'must be the path of a .ts or .js module whose default export is the catalog',
    )
    .optional(),
  SUBLEDGER_DEMO: z
    .enum(['0', '1'], { error: 'must be 0 or 1' })
    .transform((value) => value === '1')
    .default(true),
  SUBLEDGER_JWT_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SUBLEDGER_JWT_ISSUER: z.string().min(1).optional(),
  SUBLEDGER_JWT_AUDIENCE: z.string().min(1).optional(),
  SUBLEDGER_JWT_ACCOUNT_CLAIM: z.string().min(1).default('account_id'),
  SUBLEDGER_RATE_LIMIT: positiveInt(100),
  SUBLEDGER_RATE_BURST: positive.optional(),
});

// Checks across variables, each issue naming the variable to change.
const checkedSchema = environmentSchema.superRefine((env, context) => {
  // Without an issuer, a token from any tenant of a shared identity provider would be accepted.
  if (env.SUBLEDGER_JWT_JWKS_URL && !env.SUBLEDGER_JWT_ISSUER)
    context.addIssue({
      code: 'custom',
      path: ['SUBLEDGER_JWT_ISSUER'],
      message: 'is required when SUBLEDGER_JWT_JWKS_URL is set',
    });
  if (env.SUBLEDGER_RATE_BURST !== undefined && env.SUBLEDGER_RATE_BURST < env.SUBLEDGER_RATE_LIMIT)
    context.addIssue({
      code: 'custom',
      path: ['SUBLEDGER_RATE_BURST'],
      message: 'must be at least SUBLEDGER_RATE_LIMIT',
    });
});

/**
 * A webhook signing secret and the mode of the endpoint it belongs to. It verifies only events of that
 * mode: test secrets sit in developers' .env files and CI, and must not be able to sign a live event.
 */
export type WebhookSecret = { secret: string; livemode: boolean };

export type Config = {
  /** Absent: embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** Absent: `start` runs the Stripe emulator in-process. */
  stripeSecretKey: string | undefined;
  stripeApiBase: string | undefined;
  /**
   * Several secrets verify during a rotation; any one that matches accepts an event of its own mode, and
   * an event of the other mode is refused (`livemode_mismatch`).
   */
  webhookSecrets: WebhookSecret[];
  connectWebhookSecrets: WebhookSecret[];
  port: number;
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  dataDir: string;
  embeddedPostgresPort: number;
  /**
   * Where an app account id is found: the customer metadata key `subledger_account_id`, then these keys
   * in a checkout session's metadata (e.g. `buildingId`, `orgId`), then its `client_reference_id`.
   */
  accountKeys: string[];
  /** 0 turns the scheduled reconcile off (`subledger reconcile` still runs it by hand). */
  reconcileEveryMinutes: number;
  /** Stripe requests per second for backfill and reconcile; Stripe allows 25/s in test mode. */
  stripeRequestsPerSecond: number;
  workerBatchSize: number;
  /** Milliseconds a worker keeping up lets events gather before its next batch: fewer, larger batches. */
  workerGatherMs: number;
  /** The module whose default export is the app's catalog (`defineCatalog`); absent: the demo catalog. */
  catalogModule: string | undefined;
  /** With no Stripe key, `start` fills its emulator with the catalog and demo accounts; false: left empty. */
  demo: boolean;
  /**
   * JWTs of the app's identity provider accepted for reads of the account they name; absent: only API
   * keys authenticate.
   */
  jwt: { jwksUrl: string; issuer: string; audience: string | undefined; accountClaim: string } | undefined;
  /** API requests per second per key or token subject, in each process. */
  rateLimitPerSecond: number;
  /** Requests a key or token subject may make at once before the per-second rate applies. */
  rateLimitBurst: number;
};

/** Reads and validates the environment; throws `ConfigError` naming the first bad variable. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ''));
  const parsed = checkedSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${String(issue?.path[0] ?? 'environment')} ${issue?.message ?? 'is invalid'}`);
  }
  const env = parsed.data;
  const keyLivemode = isLiveKey(env.STRIPE_SECRET_KEY);
  const withModes = (entries: typeof env.STRIPE_WEBHOOK_SECRET): WebhookSecret[] =>
    entries.map(({ secret, mode }) => ({
      secret,
      livemode: mode === undefined ? keyLivemode : mode === 'live',
    }));
  return {
    databaseUrl: env.DATABASE_URL,
    stripeSecretKey: env.STRIPE_SECRET_KEY,
    stripeApiBase: env.STRIPE_API_BASE,
    webhookSecrets: withModes(env.STRIPE_WEBHOOK_SECRET),
    connectWebhookSecrets: withModes(env.STRIPE_CONNECT_WEBHOOK_SECRET),
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    dataDir: env.SUBLEDGER_DATA_DIR,
    embeddedPostgresPort: env.SUBLEDGER_EMBEDDED_PG_PORT,
    accountKeys: env.SUBLEDGER_ACCOUNT_KEYS,
    reconcileEveryMinutes: env.SUBLEDGER_RECONCILE_MINUTES,
    stripeRequestsPerSecond: env.SUBLEDGER_STRIPE_RPS,
    workerBatchSize: env.SUBLEDGER_WORKER_BATCH,
    workerGatherMs: env.SUBLEDGER_WORKER_GATHER_MS,
    catalogModule: env.SUBLEDGER_CATALOG,
    demo: env.SUBLEDGER_DEMO,
    jwt: env.SUBLEDGER_JWT_JWKS_URL
      ? {
          jwksUrl: env.SUBLEDGER_JWT_JWKS_URL,
          issuer: env.SUBLEDGER_JWT_ISSUER as string,
          audience: env.SUBLEDGER_JWT_AUDIENCE,
          accountClaim: env.SUBLEDGER_JWT_ACCOUNT_CLAIM,
        }
      : undefined,
    rateLimitPerSecond: env.SUBLEDGER_RATE_LIMIT,
    // 200 by default, but never below the rate: raising the rate alone must not fail to start.
    rateLimitBurst: env.SUBLEDGER_RATE_BURST ?? Math.max(200, env.SUBLEDGER_RATE_LIMIT),
  };
}
