import type { Random } from '../core/random.ts';
import {
  type ApiFaultKind,
  type ApiFaultRates,
  apiFaultKind,
  DEFAULT_TIMEOUT_HOLD_MS,
  type QueuedApiFault,
} from './config.ts';

/** One thing that happens to an API request instead of (or before) normal handling. */
export type ApiFault =
  | { kind: 'rate_limit' | 'lock_timeout' | 'server_error' | 'unavailable' }
  | { kind: 'timeout'; holdMs: number }
  | { kind: 'latency'; ms: number };

export type RequestLine = { method: string; path: string };

/** The faults chosen for a request, in the order they act (latency first). */
export type ApiFaultPlan = { faults: ApiFault[]; source: 'header' | 'queue' | 'rates' | 'none' };

/**
 * Chooses what happens to one request. A fault named in the request's `Emulator-Fault` header wins;
 * otherwise the first queued fault that matches the request is consumed; otherwise the per-run rates
 * are drawn. Per-run latency applies in every case but one: `Emulator-Fault: none` exempts the request
 * from every fault (a test's own calls, while the code under test meets the faults).
 */
export function planApiFaults(
  request: RequestLine,
  header: ApiFault[] | null,
  queue: QueuedApiFault[],
  rates: ApiFaultRates,
  random: Random,
): ApiFaultPlan {
  const ambient: ApiFault[] = rates.latencyMs ? [{ kind: 'latency', ms: rates.latencyMs }] : [];
  if (header) return { faults: header.length > 0 ? [...ambient, ...header] : [], source: 'header' };
  const queued = takeQueuedFault(queue, request);
  if (queued) return { faults: [...ambient, queued], source: 'queue' };
  const drawn = drawRateFault(rates, random);
  if (drawn) return { faults: [...ambient, drawn], source: 'rates' };
  return { faults: ambient, source: ambient.length > 0 ? 'rates' : 'none' };
}

/** Consumes one use of the first queued fault matching the request; spent entries leave the queue. */
export function takeQueuedFault(queue: QueuedApiFault[], request: RequestLine): ApiFault | null {
  const index = queue.findIndex((entry) => queuedFaultMatches(entry, request));
  const entry = queue[index];
  if (!entry) return null;
  entry.count -= 1;
  if (entry.count <= 0) queue.splice(index, 1);
  return toFault(entry.fault, entry);
}

export function queuedFaultMatches(entry: QueuedApiFault, request: RequestLine): boolean {
  if (entry.method && entry.method !== request.method.toUpperCase()) return false;
  return entry.path === undefined || pathPattern(entry.path).test(request.path);
}

/** `/v1/customers/:id` and `/v1/customers/*` match one path segment; everything else is literal. */
export function pathPattern(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((segment) =>
      segment === '*' || segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}/?$`);
}

const RATE_ORDER = [
  ['rateLimit', 'rate_limit'],
  ['lockTimeout', 'lock_timeout'],
  ['serverError', 'server_error'],
  ['unavailable', 'unavailable'],
  ['timeout', 'timeout'],
] as const;

/**
 * One draw per request when any rate is set, compared against the rates stacked in a fixed order, so
 * a request fails in at most one way and the stream advances the same way whatever the outcome.
 */
export function drawRateFault(rates: ApiFaultRates, random: Random): ApiFault | null {
  const total = RATE_ORDER.reduce((sum, [field]) => sum + (rates[field] ?? 0), 0);
  if (total <= 0) return null;
  const draw = random.int(0, 999_999) / 1_000_000;
  let threshold = 0;
  for (const [field, kind] of RATE_ORDER) {
    threshold += rates[field] ?? 0;
    if (draw < threshold) return toFault(kind, { timeoutMs: rates.timeoutMs });
  }
  return null;
}

function toFault(kind: ApiFaultKind, settings: { latencyMs?: number; timeoutMs?: number }): ApiFault {
  if (kind === 'timeout') return { kind, holdMs: settings.timeoutMs ?? DEFAULT_TIMEOUT_HOLD_MS };
  if (kind === 'latency') return { kind, ms: settings.latencyMs ?? 0 };
  return { kind };
}

export class FaultHeaderError extends Error {}

/**
 * Parses `Emulator-Fault: 429`, `500`, `503`, `lock_timeout`, `timeout`, `timeout=5000`, `latency=250`,
 * or several separated by commas (`latency=250, 503`); `none` is no fault at all (an empty list).
 */
export function parseFaultHeader(value: string | null | undefined): ApiFault[] | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((part) => {
    const [name = '', argument] = part.split('=', 2).map((piece) => piece.trim());
    const kind = apiFaultKind(name);
    const ms = argument === undefined ? undefined : Number(argument);
    if (!kind) throw new FaultHeaderError(`Unknown fault '${name}' in the Emulator-Fault header.`);
    if (ms !== undefined && !(Number.isInteger(ms) && ms >= 0))
      throw new FaultHeaderError(`'${part.trim()}' needs a whole number of milliseconds.`);
    if (kind === 'latency' && ms === undefined)
      throw new FaultHeaderError('latency needs a duration: Emulator-Fault: latency=250');
    return toFault(kind, { latencyMs: ms, timeoutMs: ms });
  });
}
