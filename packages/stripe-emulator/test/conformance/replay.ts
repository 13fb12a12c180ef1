import { startEmulator } from '../../src/index.ts';
import { type Allowance, type Finding, failures, judge } from './judge.ts';
import {
  CONNECTED_ACCOUNT,
  connectedSteps,
  encodeForm,
  endpointOf,
  expandList,
  type FormPair,
  isObjectId,
  isPriceParam,
  type RecordedFolder,
  type RecordedPair,
  strings,
} from './recordings.ts';
import type { SdkTypes, TypeRef } from './sdk-types.ts';

/**
 * Replays one recorded folder against a fresh emulator, in order, over real HTTP: the recorded form
 * body and Stripe-Version, ids the recording created swapped for the ids the emulator returned for the
 * same request, and objects that already existed in the recording's account (prices, customers,
 * payment methods) created first.
 */

export type PairOutcome = { pair: RecordedPair; endpoint: string } & (
  | { kind: 'matched'; findings: Finding[] }
  | { kind: 'mismatched'; findings: Finding[]; problems: string[] }
  | { kind: 'unsupported' }
  /** Depends on an object made by an unsupported endpoint (a step, or the setup of a pre-existing object). */
  | { kind: 'skipped'; because: string }
  /** Depends on an id an earlier supported step should have produced and did not. */
  | { kind: 'blocked'; because: string }
);

export type ReplayOptions = {
  sdk: SdkTypes;
  allowances: readonly Allowance[];
  /** Every object the recordings show, by id: the attributes of objects the account already had. */
  recordedObjects: ReadonlyMap<string, Record<string, unknown>>;
};

const API_KEY = 'sk_test_conformance';

type Sent = { status: number; body: Record<string, unknown> };

class Dependency extends Error {
  readonly kind: 'skipped' | 'blocked';
  constructor(kind: 'skipped' | 'blocked', because: string) {
    super(because);
    this.kind = kind;
  }
}

export async function replayFolder(folder: RecordedFolder, options: ReplayOptions): Promise<PairOutcome[]> {
  const running = await startEmulator({ port: 0, seed: 42 });
  try {
    const replay = new FolderReplay(folder, running.url, options);
    const outcomes: PairOutcome[] = [];
    for (const [step, pair] of folder.pairs.entries()) outcomes.push(await replay.step(step, pair));
    return outcomes;
  } finally {
    await running.close();
  }
}

class FolderReplay {
  readonly #folder: RecordedFolder;
  readonly #url: string;
  readonly #options: ReplayOptions;
  readonly #connected: Set<number>;
  /** Recorded id → the emulator's id for the same object. */
  readonly #ids = new Map<string, string>();
  /** Recorded id → the step whose response first showed it. */
  readonly #creators = new Map<string, number>();
  readonly #outcomes: PairOutcome[] = [];

  constructor(folder: RecordedFolder, url: string, options: ReplayOptions) {
    this.#folder = folder;
    this.#url = url;
    this.#options = options;
    this.#connected = connectedSteps(folder.pairs);
    folder.pairs.forEach((pair, step) => {
      for (const value of strings(pair.response))
        if (isObjectId(value) && !this.#creators.has(value)) this.#creators.set(value, step);
    });
  }

  async step(step: number, pair: RecordedPair): Promise<PairOutcome> {
    const endpoint = endpointOf(pair.method, pair.path);
    const account = this.#connected.has(step) ? CONNECTED_ACCOUNT.id : null;
    const outcome = await this.#run(step, pair, endpoint, account).catch((error: unknown) => {
      if (!(error instanceof Dependency)) throw error;
      return { pair, endpoint, kind: error.kind, because: error.message } as PairOutcome;
    });
    this.#outcomes.push(outcome);
    return outcome;
  }

  async #run(
    step: number,
    pair: RecordedPair,
    endpoint: string,
    account: string | null,
  ): Promise<PairOutcome> {
    const context = { step, pair, account };
    const segments: string[] = [];
    for (const segment of pair.path.split('/'))
      segments.push(await this.#reference(segment, ':path', context));
    const path = segments.join('/');
    const query = await this.#mapForm(pair.query, context);
    const body = await this.#mapForm(pair.body, context);
    const first = await this.#send(pair.method, path, query, body, account, pair.stripeVersion);
    if (isUnrecognizedUrl(first)) return { pair, endpoint, kind: 'unsupported' };
    const problems = statusProblems(pair, first);
    const { sent, dropped } = await this.#withoutRejectedExpansions(first, pair, path, query, body, account);
    if (dropped.length > 0) problems.push(...statusProblems(pair, sent));
    this.#learnIds(pair.response, sent.body);
    const findings =
      sent.status === pair.status && sent.status < 400 ? this.#judge(pair, sent, endpoint, dropped) : [];
    problems.push(...failures(findings).map((f) => f.note));
    return problems.length === 0
      ? { pair, endpoint, kind: 'matched', findings }
      : { pair, endpoint, kind: 'mismatched', findings, problems };
  }

  /**
   * An expansion the emulator rejects (`This property cannot be expanded (tax)`) is a mismatch of its
   * own; the request is then sent again without it, so the object exists and the steps that use it
   * still measure their endpoints instead of all failing for the same reason.
   */
  async #withoutRejectedExpansions(
    first: Sent,
    pair: RecordedPair,
    path: string,
    query: FormPair[],
    body: FormPair[],
    account: string | null,
  ): Promise<{ sent: Sent; dropped: string[] }> {
    let sent = first;
    const dropped: string[] = [];
    for (let attempt = 0; attempt < 10 && pair.status < 400 && sent.status === 400; attempt++) {
      const rejected = /cannot be expanded \(([^)]*)\)/.exec(errorOf(sent)?.message ?? '')?.[1];
      if (!rejected) break;
      const keep = ([key, value]: FormPair) =>
        !(/^expand(\[\d*\])?$/.test(key) && value.split('.').includes(rejected));
      dropped.push(rejected);
      query = query.filter(keep);
      body = body.filter(keep);
      sent = await this.#send(pair.method, path, query, body, account, pair.stripeVersion);
    }
    return { sent, dropped };
  }

  /** Shape differences; expansions the emulator rejected were reported already and are not required. */
  #judge(pair: RecordedPair, sent: Sent, endpoint: string, dropped: string[]): Finding[] {
    const expanded = expandList([...pair.query, ...pair.body]).filter(
      (path) => !path.split('.').some((field) => dropped.includes(field)),
    );
    return judge(pair.response, sent.body, {
      sdk: this.#options.sdk,
      root: rootType(this.#options.sdk, pair.response),
      object: endpoint,
      expanded,
      allowances: this.#options.allowances,
    });
  }

  async #mapForm(pairs: readonly FormPair[], context: StepContext): Promise<FormPair[]> {
    const out: FormPair[] = [];
    for (const [key, value] of pairs) out.push([key, await this.#reference(value, key, context)]);
    return out;
  }

  /** The emulator's value for a recorded value: mapped ids, pre-existing objects created on demand. */
  async #reference(value: string, key: string, context: StepContext): Promise<string> {
    const isPrice = isPriceParam(key) && value !== '';
    if (!isObjectId(value) && !isPrice) return value;
    if (value.startsWith('acct_')) return value;
    const known = this.#ids.get(value);
    if (known) return known;
    const creator = this.#creators.get(value);
    if (creator !== undefined && creator < context.step) throw this.#dependencyOn(creator, value);
    const created = await this.#createPreexisting(value, key, isPrice, context);
    if (created) this.#ids.set(value, created);
    // A filter may name anything (`payment[payment_intent]=pm_1234`), but a path must name an object.
    else if (key === ':path')
      throw new Dependency(
        'blocked',
        `${value} existed in the recording's account before the replayed steps`,
      );
    return created ?? value;
  }

  #dependencyOn(step: number, id: string): Dependency {
    const earlier = this.#outcomes[step];
    const name = this.#folder.pairs[step]?.id.split('/')[1] ?? String(step);
    if (earlier?.kind === 'unsupported')
      return new Dependency('skipped', `depends on unsupported ${earlier.endpoint}`);
    if (earlier?.kind === 'skipped') return new Dependency('skipped', earlier.because);
    return new Dependency('blocked', `${id} comes from ${name} (${earlier?.kind ?? 'not run'})`);
  }

  /** Objects the recording's account already had: made in the emulator with the recorded attributes. */
  async #createPreexisting(
    id: string,
    key: string,
    isPrice: boolean,
    context: StepContext,
  ): Promise<string | undefined> {
    if (isPrice || id.startsWith('price_') || id.startsWith('plan_'))
      return this.#createPrice(id, key, context);
    if (id.startsWith('cus_')) return this.#setup('POST', '/v1/customers', [], context);
    if (id.startsWith('pm_')) {
      const customer = [...context.pair.path.split('/'), ...context.pair.body.map(([, v]) => v)].find((v) =>
        v.startsWith('cus_'),
      );
      const mapped = customer && this.#ids.get(customer);
      if (mapped)
        return this.#setup(
          'POST',
          '/v1/payment_methods/pm_card_visa/attach',
          [['customer', mapped]],
          context,
        );
    }
    return undefined;
  }

  /**
   * A price the account had, with its recorded attributes; when no recording shows it, how it is used
   * tells: one-time in `add_invoice_items` and payment-mode Checkout, else monthly.
   */
  async #createPrice(id: string, key: string, context: StepContext): Promise<string | undefined> {
    const recorded = this.#options.recordedObjects.get(id);
    const oneTime =
      key.startsWith('add_invoice_items') ||
      context.pair.body.some(([k, v]) => k === 'mode' && v === 'payment');
    const recurring = (recorded ? recorded.recurring : oneTime ? null : undefined) as
      | { interval?: string; interval_count?: number }
      | null
      | undefined;
    const product = await this.#setup('POST', '/v1/products', [['name', `Recorded ${id}`]], context);
    const form: FormPair[] = [
      ['product', product],
      ['currency', String(recorded?.currency ?? 'usd')],
      ['unit_amount', String(recorded?.unit_amount ?? recorded?.amount ?? 1000)],
    ];
    if (recurring !== null) {
      form.push(['recurring[interval]', recurring?.interval ?? 'month']);
      form.push(['recurring[interval_count]', String(recurring?.interval_count ?? 1)]);
    }
    return this.#setup('POST', '/v1/prices', form, context);
  }

  async #setup(method: string, path: string, form: FormPair[], context: StepContext): Promise<string> {
    const sent = await this.#send(method, path, [], form, context.account, null);
    const what = `${method} ${path} (creating an object the recording's account had)`;
    if (isUnrecognizedUrl(sent)) throw new Dependency('skipped', `depends on unsupported ${what}`);
    if (sent.status !== 200 || typeof sent.body.id !== 'string')
      throw new Dependency('blocked', `${what} answered ${sent.status}: ${errorOf(sent)?.message ?? ''}`);
    return sent.body.id;
  }

  async #send(
    method: string,
    path: string,
    query: FormPair[],
    body: FormPair[],
    account: string | null,
    version: string | null,
  ): Promise<Sent> {
    const headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` };
    if (version) headers['stripe-version'] = version;
    if (account) headers['stripe-account'] = account;
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    const search = query.length > 0 ? `?${encodeForm(query)}` : '';
    const response = await fetch(`${this.#url}${path}${search}`, {
      method,
      headers,
      ...(method === 'POST' ? { body: encodeForm(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Walks the recorded and emulated responses side by side, pairing ids found at the same place. */
  #learnIds(recorded: unknown, actual: unknown): void {
    // An expandable field may be an id on one side and the object on the other.
    const recordedValue = typeof actual === 'string' ? (idOf(recorded) ?? recorded) : recorded;
    if (typeof recordedValue === 'string') {
      const emulated = typeof actual === 'string' ? actual : idOf(actual);
      if (
        emulated &&
        isObjectId(recordedValue) &&
        !this.#ids.has(recordedValue) &&
        samePrefix(recordedValue, emulated)
      )
        this.#ids.set(recordedValue, emulated);
      return;
    }
    if (!recorded || typeof recorded !== 'object' || !actual || typeof actual !== 'object') return;
    if (Array.isArray(recorded)) {
      if (!Array.isArray(actual)) return;
      for (const [i, item] of recorded.entries()) this.#learnIds(item, actual[i]);
      return;
    }
    for (const [key, value] of Object.entries(recorded))
      this.#learnIds(value, (actual as Record<string, unknown>)[key]);
  }
}

type StepContext = { step: number; pair: RecordedPair; account: string | null };

const idOf = (value: unknown) =>
  value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string'
    ? (value as { id: string }).id
    : undefined;

const samePrefix = (a: string, b: string) => a.split('_')[0] === b.split('_')[0];

const errorOf = (sent: { body: Record<string, unknown> }) =>
  sent.body.error as { type?: string; code?: string; message?: string } | undefined;

function isUnrecognizedUrl(sent: Sent): boolean {
  return sent.status === 404 && (errorOf(sent)?.message ?? '').startsWith('Unrecognized request URL');
}

/** Status code, then for errors the error `type` and `code`. */
export function statusProblems(pair: RecordedPair, sent: Sent): string[] {
  const recordedError = pair.response.error as { type?: string; code?: string } | undefined;
  const sentError = errorOf(sent);
  const describeError = (e: { type?: string; code?: string; message?: string } | undefined) =>
    e
      ? ` ${e.type ?? '?'}${e.code ? `/${e.code}` : ''}${e.message ? ` "${e.message.slice(0, 120)}"` : ''}`
      : '';
  if (pair.status !== sent.status)
    return [
      `status ${pair.status}${describeError(recordedError)} ≠ ${sent.status}${describeError(sentError)}`,
    ];
  if (!recordedError) return [];
  const problems: string[] = [];
  if (recordedError.type !== sentError?.type)
    problems.push(`error type ${recordedError.type} ≠ ${sentError?.type}`);
  if (recordedError.code !== sentError?.code)
    problems.push(`error code ${recordedError.code} ≠ ${sentError?.code}`);
  return problems;
}

/** The SDK type of a recorded response: its `object`, a list of them, or a deleted variant. */
function rootType(sdk: SdkTypes, response: Record<string, unknown>): TypeRef {
  const object = String(response.object ?? '');
  if (object === 'list' || object === 'search_result') {
    const first = (response.data as { object?: string }[] | undefined)?.[0]?.object ?? 'customer';
    const element = sdk.objectType(first) ?? sdk.nothing();
    return sdk.envelope(object === 'list' ? 'ApiList' : 'ApiSearchResult', element);
  }
  const name = response.deleted === true ? `deleted_${object}` : object;
  return sdk.objectType(name) ?? sdk.nothing();
}
