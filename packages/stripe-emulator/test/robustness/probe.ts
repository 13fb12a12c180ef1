import { type RunningEmulator, startEmulator } from '../../src/index.ts';

/** One request as it goes over the wire: path (with query) already encoded, body as raw text or bytes. */
export type RawRequest = {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
};

export type Reply = { status: number; text: string; json: unknown };

export const SECRET_KEY = 'sk_test_robustness';
export const FORM = 'application/x-www-form-urlencoded';

/** Every error type Stripe answers a 4xx with (`api_error` is 5xx; `rate_limit_error` is 429). */
const CLIENT_ERROR_TYPES = new Set(['card_error', 'idempotency_error', 'invalid_request_error']);
/** Statuses a malformed request may get: Stripe's 4xx set. */
export const CLIENT_ERROR_STATUSES = new Set([400, 401, 402, 404, 409]);
/** Codes that always name the parameter at fault. */
const CODES_WITH_PARAM = new Set([
  'parameter_unknown',
  'parameter_missing',
  'parameter_invalid_integer',
  'parameter_invalid_empty',
]);

const REQUEST_TIMEOUT_MS = 5_000;

/** The curl-ish line a bug report needs to reproduce a request. */
export function describeRequest(request: RawRequest): string {
  const body =
    request.body === undefined
      ? ''
      : typeof request.body === 'string'
        ? ` body=${JSON.stringify(request.body.length > 300 ? `${request.body.slice(0, 300)}…(${request.body.length} chars)` : request.body)}`
        : ` body=<${request.body.length} bytes>`;
  const headers = Object.entries(request.headers ?? {})
    .filter(([name]) => name !== 'authorization')
    .map(([name, value]) => ` -H ${JSON.stringify(`${name}: ${value.slice(0, 80)}`)}`)
    .join('');
  return `${request.method} ${request.path.length > 300 ? `${request.path.slice(0, 300)}…` : request.path}${headers}${body}`;
}

/** An emulator on a free port, with what a fuzz run needs: sending raw requests and watching the store. */
export class Probe {
  readonly running: RunningEmulator;

  private constructor(running: RunningEmulator) {
    this.running = running;
  }

  static async start(seed: number): Promise<Probe> {
    return new Probe(await startEmulator({ port: 0, seed }));
  }

  close(): Promise<void> {
    return this.running.close();
  }

  /** Sends over real HTTP; a reply slower than the timeout is reported as a hang, not waited for. */
  async send(request: RawRequest): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${SECRET_KEY}`, ...request.headers };
    // An empty authorization header means "send none": a client that forgot its key.
    if (headers.authorization === '') delete headers.authorization;
    const response = await fetch(`${this.running.url}${request.path}`, {
      method: request.method,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  }

  /** Posts Stripe-style form parameters; for setting up objects the fuzzer then refers to. */
  async post(path: string, body: string): Promise<Reply> {
    return this.send({ method: 'POST', path, headers: { 'content-type': FORM }, body });
  }

  /** Every table of every partition as JSON: any insert, delete, replace or in-place change shows. */
  storeSnapshot(): Map<string, string> {
    const snapshot = new Map<string, string>();
    for (const partition of this.running.emulator.store.partitions())
      for (const name of partition.tableNames()) {
        const rows = [...partition.table<{ id: string }>(name).values()];
        if (rows.length > 0) snapshot.set(`${partition.key}/${name}`, JSON.stringify(rows));
      }
    return snapshot;
  }
}

/** Tables whose rows differ between two snapshots. */
export function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => before.get(name) !== after.get(name));
}

/**
 * What is wrong with a reply to a request that may fail: anything but Stripe's 4xx error envelope (or,
 * when `successAllowed`, a 200 JSON object). Empty when the reply is fine.
 */
export function replyProblems(reply: Reply, successAllowed: boolean): string[] {
  if (successAllowed && reply.status === 200) {
    const body = reply.json as { object?: unknown } | undefined;
    return body && typeof body === 'object' && typeof body.object === 'string'
      ? []
      : [`200 without a Stripe object: ${reply.text.slice(0, 200)}`];
  }
  const problems: string[] = [];
  if (!CLIENT_ERROR_STATUSES.has(reply.status)) problems.push(`status ${reply.status}`);
  const error = (reply.json as { error?: Record<string, unknown> } | undefined)?.error;
  if (!error || typeof error !== 'object')
    return [...problems, `no error envelope: ${reply.text.slice(0, 300)}`];
  if (!CLIENT_ERROR_TYPES.has(String(error.type))) problems.push(`error.type ${String(error.type)}`);
  if (typeof error.message !== 'string' || error.message === '') problems.push('error.message missing');
  if (error.code !== undefined && typeof error.code !== 'string') problems.push('error.code not a string');
  if (error.param !== undefined && typeof error.param !== 'string') problems.push('error.param not a string');
  if (CODES_WITH_PARAM.has(String(error.code)) && !error.param)
    problems.push(`${String(error.code)} without param`);
  return problems.length > 0 ? [...problems, `reply: ${reply.text.slice(0, 300)}`] : [];
}
