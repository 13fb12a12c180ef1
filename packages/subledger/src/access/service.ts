import type { Catalog } from '../catalog/index.ts';
import type { AccessChange, Database } from '../store/index.ts';
import { accountIdSchema, type Place } from '../sync/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { usageSince } from '../usage/index.ts';
import { AccessCache, type CacheOptions } from './cache.ts';
import { type CheckResult, creditsAnswer, standingOf, usageWindows } from './check.ts';
import { answerOf, type CompiledAccess, compileAccess, entitlementsOf } from './compiled.ts';
import type { AccessChecker, CheckOptions, Entitlements } from './contract.ts';
import { listenForChanges } from './listener.ts';
import { readAccountFacts } from './mirror-reads.ts';
import { type AccessPolicy, DEFAULT_ACCESS_POLICY } from './state.ts';

export type AccessServiceOptions = {
  database: Database;
  catalog: Catalog;
  place: Place;
  logger: Logger;
  policy?: AccessPolicy;
  cache?: Partial<CacheOptions>;
  /** What an account's pool of a credits feature may spend now; without it, credits checks go by plan. */
  creditsBalance?: (accountId: string, creditType: string) => Promise<number>;
};

export type AccessService = AccessChecker & {
  /** Starts listening for the mirror's change notices; until then every check reads Postgres. */
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Forgets what `changes` touch, at once (this process's own writes, before their notice arrives). */
  invalidate: (changes: readonly AccessChange[]) => void;
  cachedAccounts: () => number;
};

export type AccessErrorCode = 'invalid_account_id' | 'invalid_feature' | 'invalid_quantity';

/** A check asked with arguments that are not an account, a feature or a quantity. */
export class AccessError extends Error {
  readonly code: AccessErrorCode;
  constructor(code: AccessErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const DEFAULT_CACHE: CacheOptions = { ttlMs: 60_000, maxAccounts: 250_000, now: Date.now };

/**
 * Checks and summaries from the mirror, in this process: a warm check is a map lookup, a cold one reads
 * Postgres (misses of the same moment share two statements), and nothing ever calls Stripe.
 */
export function createAccessService(options: AccessServiceOptions): AccessService {
  const policy = options.policy ?? DEFAULT_ACCESS_POLICY;
  const load = batched(async (accountIds: string[]) => {
    const facts = await readAccountFacts(options.database, accountIds, options.place);
    const now = Date.now() / 1000;
    const factsOf = (accountId: string) => facts.get(accountId) ?? null;
    const standings = new Map(
      accountIds.map((accountId) => [
        accountId,
        standingOf(options.catalog, factsOf(accountId), now, policy),
      ]),
    );
    const windows = [...standings].flatMap(([accountId, standing]) =>
      usageWindows(options.catalog, standing, now).map((window) => ({ accountId, ...window })),
    );
    const usage = await usageSince(options.database, options.place, windows);
    const noUsage = new Map<string, number>();
    return new Map(
      [...standings].map(([accountId, standing]) => [
        accountId,
        compileAccess(
          options.catalog,
          accountId,
          factsOf(accountId),
          usage.get(accountId) ?? noUsage,
          now,
          standing,
        ),
      ]),
    );
  });
  const cache = new AccessCache({ ...DEFAULT_CACHE, ...options.cache }, load);
  const compiled = (accountId: string) => cache.get(accountId, Date.now()) ?? cache.load(accountId);
  const listener = listenForChanges({
    url: options.database.url,
    onChanges: (changes) => cache.apply(changes),
    onListening: (listening) => cache.setListening(listening),
    logger: options.logger,
  });
  return {
    // Not async: a warm check answers with an already-settled promise, without another turn.
    check(accountId: string, featureId: string, checkOptions?: CheckOptions): Promise<CheckResult> {
      const quantity = checkOptions?.quantity ?? 1;
      try {
        validate(accountId, featureId, quantity);
      } catch (error) {
        return Promise.reject(error);
      }
      const warm = cache.get(accountId, Date.now());
      const credits = options.creditsBalance && options.catalog.features[featureId]?.type === 'credits';
      if (warm && !credits) return Promise.resolve(answerOf(warm, featureId, quantity));
      return (warm ? Promise.resolve(warm) : cache.load(accountId)).then(async (compiled) => {
        const planned = answerOf(compiled, featureId, quantity);
        if (!credits || !options.creditsBalance) return planned;
        // Balances move with every spend: read now (one statement), never cached.
        const balance = await options.creditsBalance(accountId, featureId);
        return creditsAnswer(planned, compiled.standing.access.canUseCredits, balance, quantity);
      });
    },
    async entitlements(accountId: string): Promise<Entitlements> {
      validate(accountId, 'any', 1);
      return entitlementsOf(await compiled(accountId));
    },
    start: listener.start,
    stop: listener.stop,
    invalidate: (changes) => cache.apply(changes),
    cachedAccounts: () => cache.size,
  };
}

/**
 * The account id, refused as the HTTP API refuses it (`accountIdSchema`, the same message) with the
 * coded `invalid_account_id`: a library call and its route give one answer, never a database error.
 */
export function validAccountId(accountId: unknown): string {
  const parsed = accountIdSchema.safeParse(accountId);
  if (parsed.success) return parsed.data;
  throw new AccessError(
    'invalid_account_id',
    `account_id ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
  );
}

function validate(accountId: unknown, featureId: unknown, quantity: unknown): void {
  validAccountId(accountId);
  if (typeof featureId !== 'string' || featureId.length === 0 || featureId.length > 200)
    throw new AccessError('invalid_feature', 'feature must be a string of 1 to 200 characters');
  if (!Number.isSafeInteger(quantity) || (quantity as number) < 1)
    throw new AccessError('invalid_quantity', 'quantity must be a positive integer');
}

type Waiter = { resolve: (compiled: CompiledAccess) => void; reject: (error: unknown) => void };

/**
 * Loads the accounts asked within one turn of the event loop together (two statements whatever their
 * number), so a cold start under load costs two round trips per turn rather than per account.
 */
function batched(loadMany: (accountIds: string[]) => Promise<Map<string, CompiledAccess>>) {
  let batch: Map<string, Waiter[]> | null = null;
  const run = async (asked: Map<string, Waiter[]>) => {
    try {
      const loaded = await loadMany([...asked.keys()]);
      for (const [accountId, waiters] of asked)
        for (const waiter of waiters) waiter.resolve(loaded.get(accountId) as CompiledAccess);
    } catch (error) {
      for (const waiters of asked.values()) for (const waiter of waiters) waiter.reject(error);
    }
  };
  return (accountId: string) =>
    new Promise<CompiledAccess>((resolve, reject) => {
      if (!batch) {
        const asked = new Map<string, Waiter[]>();
        batch = asked;
        setImmediate(() => {
          batch = null;
          void run(asked);
        });
      }
      batch.set(accountId, [...(batch.get(accountId) ?? []), { resolve, reject }]);
    });
}
