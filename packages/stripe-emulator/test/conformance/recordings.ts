import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pay-rails recordings: real request/response pairs from api.stripe.com, one folder per test of
 * that library, in request order. Pure reading and parsing; replay.ts sends them.
 */

/** Recordings older than this predate the current object shapes (Basil and later). */
export const MIN_STRIPE_VERSION = '2025-10-29';

export type FormPair = [key: string, value: string];

export type RecordedPair = {
  /** `folder/NN-METHOD-path.json`, the pair's name in reports and known-difference lists. */
  id: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query: FormPair[];
  body: FormPair[];
  status: number;
  stripeVersion: string;
  response: Record<string, unknown>;
};

export type RecordedFolder = { name: string; pairs: RecordedPair[] };

/**
 * The cassettes were scrubbed of a secret whose value was the word "secret", so every "secret" became
 * `<PADDLE_API_KEY>` (`latest_invoice.confirmation_<PADDLE_API_KEY>` in expand lists, client secrets).
 * Putting the word back restores what Stripe saw and sent.
 */
export const repairScrubbing = (text: string) => text.replaceAll('<PADDLE_API_KEY>', 'secret');

export type Recordings = {
  /** Folders with their pairs at MIN_STRIPE_VERSION or later, the ones replayed. */
  folders: RecordedFolder[];
  /**
   * Every object any recorded response shows (all versions, one Stripe account), by id: how a price
   * the replayed steps only name (`price_1ILVZa…`, `small-monthly`) was set up.
   */
  objects: Map<string, Record<string, unknown>>;
};

export function loadRecordings(dir: string): Recordings {
  const recordings: Recordings = { folders: [], objects: new Map() };
  for (const name of readdirSync(dir).sort()) {
    const all = readdirSync(join(dir, name))
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => parsePair(`${name}/${file}`, readFileSync(join(dir, name, file), 'utf8')));
    for (const pair of all) collectObjects(pair.response, recordings.objects);
    const pairs = all.filter((pair) => pair.stripeVersion >= MIN_STRIPE_VERSION);
    if (pairs.length > 0) recordings.folders.push({ name, pairs });
  }
  return recordings;
}

function collectObjects(value: unknown, into: Map<string, Record<string, unknown>>): void {
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (!Array.isArray(value) && typeof record.id === 'string' && typeof record.object === 'string')
    if (!into.has(record.id)) into.set(record.id, record);
  for (const item of Object.values(record)) collectObjects(item, into);
}

type RawPair = {
  request: { method: string; uri: string; body: string };
  status: number;
  stripe_version: string | null;
  body: Record<string, unknown>;
};

export function parsePair(id: string, text: string): RecordedPair {
  const raw = JSON.parse(repairScrubbing(text)) as RawPair;
  const url = new URL(raw.request.uri);
  return {
    id,
    method: raw.request.method.toUpperCase() as RecordedPair['method'],
    path: url.pathname,
    query: parseForm(url.search.slice(1)),
    body: parseForm(raw.request.body ?? ''),
    status: raw.status,
    stripeVersion: raw.stripe_version ?? '',
    response: raw.body,
  };
}

export function parseForm(text: string): FormPair[] {
  if (text === '') return [];
  return text.split('&').map((part) => {
    const [key = '', value = ''] = part.split('=', 2);
    return [decodeForm(key), decodeForm(value)];
  });
}

const decodeForm = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));

export function encodeForm(pairs: readonly FormPair[]): string {
  return pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

/** `expand[0]=a&expand[]=b` → `['a', 'b']`. */
export function expandList(pairs: readonly FormPair[]): string[] {
  return pairs.filter(([key]) => /^expand(\[\d*\])?$/.test(key)).map(([, value]) => value);
}

/** Stripe's test tokens stand for themselves in every account: `pm_card_visa`, `tok_visa`. */
export const isTestToken = (value: string) => /^(pm_card_|tok_[a-z])/.test(value) || value === 'pm_card';

/**
 * An object id: a lowercase prefix and a long random token (`cus_TOnRzwk3w8KAot`, `pi_3SRz…`); the
 * token's capitals or digits tell it from a path word (`invoice_payments`).
 */
export const isObjectId = (value: string) =>
  /^[a-z]{2,8}_(?=[a-z]*[A-Z0-9])[A-Za-z0-9]{8,}$/.test(value) && !isTestToken(value);

/** Parameters that name a price (which in old accounts may be a custom plan id like `small-monthly`). */
export const isPriceParam = (key: string) => /(^|\])price\]?$|(^|\[)price$|\[price\]$|\[plan\]$/.test(key);

/** Path words that group resources (`/v1/checkout/sessions`) rather than name a collection. */
const NAMESPACES = new Set([
  'billing',
  'billing_portal',
  'checkout',
  'entitlements',
  'test_helpers',
  'tax',
  'radar',
]);

/** Path words in an id's position that are not ids (`/v1/customers/search`). */
const STATIC_WORDS = new Set(['search', 'upcoming', 'create_preview', 'preview']);

/**
 * The endpoint a request hits, ids written `:id`: `POST /v1/payment_methods/:id/attach`. Stripe paths
 * alternate collection and id after the optional namespace, whatever the id looks like (`abcd` too).
 */
export function endpointOf(method: string, path: string): string {
  const segments = path.split('/').slice(2);
  const first = NAMESPACES.has(segments[0] ?? '') ? 1 : 0;
  const shaped = segments.map((segment, i) =>
    i > first && (i - first) % 2 === 1 && !STATIC_WORDS.has(segment) ? ':id' : segment,
  );
  return `${method} /v1/${shaped.join('/')}`;
}

/** Every string in a JSON value, depth first, for scanning the ids a response mentions. */
export function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) yield* strings(item);
}

/**
 * Stripe ids embed a tag of the account that owns them (`pm_1SRzqB|KXBGcbgpbZ|V2vgvlFA`). The
 * recordings keep no headers, so the tag is how we tell which requests pay-rails sent with
 * `Stripe-Account` for its connected account.
 */
export const CONNECTED_ACCOUNT = { id: 'acct_1IStbKQOsIOBQfn0', tag: 'QK2ZHS99Rk' };

const accountTag = (id: string) =>
  /^[a-z]+_[0-9][A-Za-z0-9]{5}([A-Za-z0-9]{10})[A-Za-z0-9]{8}$/.exec(id)?.[1];

/**
 * Which steps ran on the connected account: those whose response holds ids with its tag, and the
 * earlier steps that created objects those steps use (a customer id carries no tag, but the payment
 * method attached to it does). A later request that merely mentions such an object is not moved: it may
 * be the test checking that the platform cannot see it.
 */
export function connectedSteps(pairs: readonly RecordedPair[]): Set<number> {
  const connected = new Set<number>();
  const creator = new Map<string, number>();
  pairs.forEach((pair, step) => {
    for (const value of strings(pair.response)) {
      if (accountTag(value) === CONNECTED_ACCOUNT.tag) connected.add(step);
      if (isObjectId(value) && !creator.has(value)) creator.set(value, step);
    }
  });
  let changed = true;
  while (changed) {
    changed = false;
    for (const step of [...connected])
      for (const id of requestIds(pairs[step] as RecordedPair)) {
        const origin = creator.get(id);
        if (origin !== undefined && origin < step && !connected.has(origin)) {
          connected.add(origin);
          changed = true;
        }
      }
  }
  return connected;
}

/** The ids a request mentions, in its path, query and body. */
export function requestIds(pair: RecordedPair): string[] {
  const values = [...pair.path.split('/'), ...[...pair.query, ...pair.body].map(([, value]) => value)];
  return values.filter(isObjectId);
}
