import { idempotencyMismatch } from './errors.ts';

type SavedResponse = { fingerprint: string; status: number; body: string; createdAtMs: number };

export type ReplayDecision = { kind: 'execute' } | { kind: 'replay'; status: number; body: string };

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * Stripe's idempotency rules: the first response to a key is kept for 24 hours; the same key with the
 * same method, path and parameters gets that response again, and with anything else an
 * `idempotency_error`. Keys are scoped to the account and mode that used them.
 */
export class IdempotencyKeys {
  readonly #saved = new Map<string, SavedResponse>();

  decide(scope: string, key: string, fingerprint: string, nowMs: number): ReplayDecision {
    const saved = this.#saved.get(`${scope}|${key}`);
    if (!saved || nowMs - saved.createdAtMs > KEY_LIFETIME_MS) return { kind: 'execute' };
    if (saved.fingerprint !== fingerprint) throw idempotencyMismatch(key);
    return { kind: 'replay', status: saved.status, body: saved.body };
  }

  save(scope: string, key: string, fingerprint: string, status: number, body: string, nowMs: number): void {
    this.#saved.set(`${scope}|${key}`, { fingerprint, status, body, createdAtMs: nowMs });
  }

  clear(): void {
    this.#saved.clear();
  }
}

/** Parameters compared as a canonical JSON string, so that key order never makes two requests differ. */
export function fingerprint(method: string, path: string, params: unknown): string {
  return `${method} ${path} ${canonicalJson(params)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
