import type { Catalog } from '../catalog/index.ts';
import type { AccessChange, Database } from '../store/index.ts';
import type { Place } from '../sync/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { usageSince } from '../usage/index.ts';
import { AccessCache, type CacheOptions } from './cache.ts';
import type { CheckResult } from './check.ts';
import { answerOf, type CompiledAccess, compileAccess, entitlementsOf, windowsToCount } from './compiled.ts';
import type { AccessChecker, CheckOptions, Entitlements } from './contract.ts';
import { listenForChanges } from './listener.ts';
import { type AccountFacts, readAccountFacts } from './mirror-reads.ts';
import { type AccessPolicy, DEFAULT_ACCESS_POLICY } from './state.ts';

export type AccessServiceOptions = {
  database: Database;
  catalog: Catalog;
  place: Place;
  logger: Logger;
  policy?: AccessPolicy;
  cache?: Partial<CacheOptions>;
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

const DEFAULT_CACHE: CacheOptions = { ttlMs: 60_000, maxAccounts: 250_000 };

/**
 * Checks and summaries from the mirror, in this process: a warm check is a map lookup, a cold one reads
 * Postgres (misses of the same moment share one statement), and nothing ever calls Stripe.
 */
export function createAccessService(options: AccessServiceOptions): AccessService {
  const policy = options.policy ?? DEFAULT_ACCESS_POLICY;
  const readFacts = batchedFactsReader(options.database, options.place);
  const load = async (accountId: string): Promise<CompiledAccess> => {
    const facts = await readFacts(accountId);
    const now = Date.now() / 1000;
    const windows = windowsToCount(options.catalog, facts, now, policy);
    const usage = await usageSince(options.database, options.place, accountId, windows);
    return compileAccess(options.catalog, accountId, facts, usage, now, policy);
  };
  const cache = new AccessCache({ ...DEFAULT_CACHE, ...options.cache }, load);
  const compiled = (accountId: string) => cache.get(accountId, Date.now()) ?? cache.load(accountId);
  const listener = listenForChanges({
    url: options.database.url,
    onChanges: (changes) => cache.apply(changes),
    onListening: (listening) => cache.setListening(listening),
    logger: options.logger,
  });
  return {
    async check(accountId: string, featureId: string, checkOptions?: CheckOptions): Promise<CheckResult> {
      const quantity = checkOptions?.quantity ?? 1;
      validate(accountId, featureId, quantity);
      return answerOf(await compiled(accountId), featureId, quantity);
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

function validate(accountId: unknown, featureId: unknown, quantity: unknown): void {
  if (typeof accountId !== 'string' || accountId.length === 0 || accountId.length > 500)
    throw new AccessError('invalid_account_id', 'account_id must be a string of 1 to 500 characters');
  if (typeof featureId !== 'string' || featureId.length === 0 || featureId.length > 200)
    throw new AccessError('invalid_feature', 'feature must be a string of 1 to 200 characters');
  if (!Number.isSafeInteger(quantity) || (quantity as number) < 1)
    throw new AccessError('invalid_quantity', 'quantity must be a positive integer');
}

type Waiter = { resolve: (facts: AccountFacts | null) => void; reject: (error: unknown) => void };

/**
 * Reads facts for the accounts asked within one turn of the event loop in a single statement, so a cold
 * start under load costs one round trip per turn rather than one per account.
 */
function batchedFactsReader(database: Database, place: Place) {
  let batch: Map<string, Waiter[]> | null = null;
  const read = async (asked: Map<string, Waiter[]>) => {
    try {
      const facts = await readAccountFacts(database, [...asked.keys()], place);
      for (const [accountId, waiters] of asked)
        for (const waiter of waiters) waiter.resolve(facts.get(accountId) ?? null);
    } catch (error) {
      for (const waiters of asked.values()) for (const waiter of waiters) waiter.reject(error);
    }
  };
  return (accountId: string) =>
    new Promise<AccountFacts | null>((resolve, reject) => {
      if (!batch) {
        const asked = new Map<string, Waiter[]>();
        batch = asked;
        setImmediate(() => {
          batch = null;
          void read(asked);
        });
      }
      batch.set(accountId, [...(batch.get(accountId) ?? []), { resolve, reject }]);
    });
}
