import type { Context } from 'hono';
import type { Catalog } from '../../catalog/index.ts';
import type { EntryView, Outcome, Refusal } from '../../credits/index.ts';
import type { ApiEnv } from '../guard.ts';
import { refusal } from '../problems.ts';

/** How the credits ledger's answers and a request's credits fields read over HTTP. */

/** A ledger entry as the API shows it. */
export const creditEntryJson = (entry: EntryView) => ({
  id: entry.id,
  feature: entry.creditType,
  kind: entry.kind,
  amount: entry.amount,
  lot_id: entry.lotId,
  hold_id: entry.holdId,
  spender: entry.spender,
  at: entry.at,
});

/** The credits feature a request names, or the catalog's only one. */
export function featureOf(catalog: Catalog, named: string | undefined): string {
  const credits = Object.entries(catalog.features)
    .filter(([, feature]) => feature.type === 'credits')
    .map(([id]) => id);
  if (named === undefined) {
    if (credits.length === 1) return credits[0] as string;
    throw refusal(
      400,
      'feature_required',
      `name the credits feature: one of ${credits.join(', ') || '(none)'}`,
    );
  }
  if (!credits.includes(named))
    throw refusal(400, 'unknown_credits_feature', `${named} is not a credits feature of the catalog`);
  return named;
}

export function keyOf(c: Context<ApiEnv>, bodyKey: string | undefined): string {
  const key = bodyKey ?? c.req.header('idempotency-key');
  if (!key)
    throw refusal(400, 'idempotency_key_required', 'give idempotency_key (or the Idempotency-Key header)');
  return key;
}

const STATUS: Record<Refusal, 400 | 402 | 404 | 409> = {
  insufficient_credits: 402,
  hold_not_found: 404,
  hold_exists: 409,
  commit_exceeds_hold: 409,
  invalid_amount: 400,
  invalid_expiry: 400,
};

const MESSAGES: Record<Refusal, string> = {
  insufficient_credits: 'the pool does not have enough credits',
  hold_not_found: 'no open hold has this id: it was committed, released or has expired',
  hold_exists: 'this key already opened a hold',
  commit_exceeds_hold: 'the hold does not hold that much',
  invalid_amount: 'the amount must be a positive whole number',
  invalid_expiry: 'the hold must last at least a second',
};

/** The balance of an applied operation; a refused one is thrown as its coded answer. */
export function settled(outcome: Outcome): number {
  if (outcome.ok) return outcome.balance;
  const status = STATUS[outcome.code];
  const body = {
    error: { code: outcome.code, message: MESSAGES[outcome.code] },
    ...(outcome.code === 'insufficient_credits' ? { balance: outcome.balance } : {}),
  };
  throw refusal(status, outcome.code, MESSAGES[outcome.code], body);
}
