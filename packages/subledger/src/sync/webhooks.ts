import Stripe from 'stripe';
import type { WebhookSecret } from '../config/index.ts';
import type { InboxEvent } from './envelope.ts';
import { NotAnEventError, toInboxEvent } from './envelope.ts';
import { type StoreResult, UnstorableEventError } from './inbox.ts';

export const MAX_WEBHOOK_BYTES = 1024 * 1024;
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type WebhookOptions = {
  /**
   * Signing secrets and their endpoints' modes, read on each request: any one verifies (rotation), but
   * only an event of its own mode.
   */
  secrets: () => readonly WebhookSecret[];
  store: (event: InboxEvent) => Promise<StoreResult>;
  /** The Connect endpoint accepts only events that name a connected account. */
  connect?: boolean;
  toleranceSeconds?: number;
  /** Called after each answer, for metrics. */
  onAnswer?: (answer: { status: number; code: string; type?: string; durationMs: number }) => void;
  /**
   * Called once for each answer that is a failure of this side rather than a refusal of the delivery (a
   * 500 or 503 whose cause the answer does not tell): for the log, which alone can tell a database outage
   * from a body read too early or a bug.
   */
  onFailure?: (failure: WebhookFailure) => void;
  now?: () => number;
};

/** A failed answer and what caused it; `message` is the answer's, `error` is never sent. */
export type WebhookFailure = { status: number; code: string; message: string; error: unknown };

/**
 * The body was read before the endpoint could read it (`await request.text()` first, or a middleware that
 * parses it): the signature is over its raw bytes, so nothing can be verified. A mistake of the
 * application that mounts the handler, not of the delivery: answered 500, which Stripe delivers again.
 */
class BodyAlreadyReadError extends Error {
  readonly code = 'body_already_read';
  constructor() {
    super('the request body was read before the webhook handler; hand it the request unread');
  }
}

class Refusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * A webhook delivery as the endpoint reads it, whatever carried it: a web-standard `Request`
 * (`deliveryOfRequest`), or the HTTP server's own request object, whose body is read without a web
 * stream in between.
 */
export type WebhookDelivery = {
  method: string;
  /** A request header by its lower-case name, or null. */
  header: (name: string) => string | null;
  body: AsyncIterable<Uint8Array> | null;
  /** The body was read, or taken by a reader, before the endpoint. */
  bodyAlreadyRead?: boolean;
};

/** What the endpoint answers: a status and its JSON body. */
export type WebhookAnswer = { status: number; body: Record<string, unknown> };

export const deliveryOfRequest = (request: Request): WebhookDelivery => ({
  method: request.method,
  header: (name) => request.headers.get(name),
  body: request.body as AsyncIterable<Uint8Array> | null,
  bodyAlreadyRead: request.bodyUsed || request.body?.locked === true,
});

/**
 * The webhook endpoint: verify the signature on the raw body, store the event (a duplicate id is
 * acknowledged and not stored again), acknowledge. Nothing else happens in the request; nothing is
 * acknowledged before it is committed. A refusal (4xx) writes nothing; so does an event Postgres cannot
 * hold (400 `event_unstorable`); a failure to store answers 503 so that Stripe delivers again, and a body
 * read before the endpoint 500 `body_already_read`. Each of those two is told to `onFailure`.
 */
export function createWebhookAcceptor(
  options: WebhookOptions,
): (delivery: WebhookDelivery) => Promise<WebhookAnswer> {
  const tolerance = options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  const now = options.now ?? (() => Date.now());
  return async (delivery) => {
    const started = performance.now();
    const answer = (status: number, code: string, body: Record<string, unknown>, type?: string) => {
      options.onAnswer?.({
        status,
        code,
        durationMs: performance.now() - started,
        ...(type ? { type } : {}),
      });
      return { status, body };
    };
    const problem = (status: number, code: string, message: string) =>
      answer(status, code, { error: { code, message } });
    const failure = (status: number, code: string, message: string, error: unknown) => {
      options.onFailure?.({ status, code, message, error });
      return problem(status, code, message);
    };
    try {
      if (delivery.method !== 'POST') throw new Refusal(405, 'method_not_allowed', 'webhooks are POSTed');
      const raw = await readBody(delivery);
      const signature = delivery.header('stripe-signature');
      const event = verify(raw, signature, options.secrets(), tolerance, now(), options.connect === true);
      if (options.connect && event.stripeAccount === 'platform')
        throw new Refusal(400, 'account_missing', 'a Connect webhook must name the connected account');
      const result = await options.store(event);
      return answer(200, result, { received: true, duplicate: result === 'duplicate' }, event.type);
    } catch (error) {
      if (error instanceof Refusal) return problem(error.status, error.code, error.message);
      // Postgres refused what the event holds: storing it again would fail the same way, so no 503.
      if (error instanceof UnstorableEventError)
        return problem(400, error.code, 'the event holds values the inbox cannot store');
      if (error instanceof BodyAlreadyReadError) return failure(500, error.code, error.message, error);
      return failure(503, 'inbox_unavailable', 'the event could not be stored; deliver it again', error);
    }
  };
}

/** The webhook endpoint (see `createWebhookAcceptor`) as a web-standard handler. */
export function createWebhookHandler(options: WebhookOptions): (request: Request) => Promise<Response> {
  const accept = createWebhookAcceptor(options);
  return async (request) => {
    const answer = await accept(deliveryOfRequest(request));
    return Response.json(answer.body, { status: answer.status });
  };
}

async function readBody(delivery: WebhookDelivery): Promise<Buffer> {
  const tooLarge = () =>
    new Refusal(413, 'payload_too_large', `webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
  // Reading it again would fail as any stream read twice does, with an error that does not say why.
  if (delivery.bodyAlreadyRead) throw new BodyAlreadyReadError();
  if (Number(delivery.header('content-length') ?? 0) > MAX_WEBHOOK_BYTES) throw tooLarge();
  if (!delivery.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of delivery.body) {
    size += chunk.byteLength;
    if (size > MAX_WEBHOOK_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Verifies the signature, then reads the event. A secret belongs to the endpoint of one mode, and
 * vouches only for events of that mode: an event whose `livemode` differs from that of every secret
 * that verifies it is refused, so that a test secret cannot sign an event into the live mirror. One
 * exception, Stripe's: a live Connect endpoint also receives the test events of accounts connected in
 * live mode, signed with its live secret (`connect`). They are stored as test events, as they are.
 */
function verify(
  raw: Buffer,
  header: string | null,
  secrets: readonly WebhookSecret[],
  tolerance: number,
  nowMs: number,
  connect: boolean,
): InboxEvent {
  if (secrets.length === 0)
    throw new Refusal(
      503,
      'webhook_secret_missing',
      `this endpoint has no webhook secret to verify with (${connect ? 'STRIPE_CONNECT_WEBHOOK_SECRET or ' : ''}` +
        'STRIPE_WEBHOOK_SECRET); nothing was stored: deliver it again once one is set',
    );
  if (!header) throw new Refusal(400, 'signature_missing', 'the Stripe-Signature header is missing');
  const signs = (candidate: WebhookSecret) => signedWith(raw, header, candidate.secret, tolerance, nowMs);
  const signer = secrets.find(signs);
  if (!signer) {
    const timestamp = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
    if (Number.isFinite(timestamp) && Math.abs(Math.floor(nowMs / 1000) - timestamp) > tolerance)
      throw new Refusal(400, 'timestamp_outside_tolerance', `the signature is older than ${tolerance} s`);
    throw new Refusal(400, 'signature_invalid', 'no configured webhook secret verifies this signature');
  }
  const event = parseEvent(raw);
  // Another secret may verify it too (a header signed with several): one of the event's mode will do.
  const vouched = (candidate: WebhookSecret) =>
    candidate.livemode === event.livemode || (connect && candidate.livemode && !event.livemode);
  if (!vouched(signer) && !secrets.some((candidate) => vouched(candidate) && signs(candidate)))
    throw new Refusal(
      400,
      'livemode_mismatch',
      `the event is in ${modeOf(event)}, but the webhook secret that verifies it belongs to ${modeOf(signer)}`,
    );
  return event;
}

const modeOf = (of: { livemode: boolean }) => (of.livemode ? 'live mode' : 'test mode');

/**
 * Checks the signature and its age only. The SDK takes the receive time in milliseconds (given seconds,
 * every signature looked decades fresh). Parsing is left to `parseEvent`, so that a signed body that is
 * not a snapshot event (bad JSON, a thin v2 event) is refused with 400 rather than failing with a 503.
 * Whatever the SDK throws for a header means it does not verify: not only its verification error, but the
 * plain Error of comparing an empty signature, and the RangeError of one as long as Stripe's in characters
 * but not in bytes (non-ASCII). None of them could have matched.
 */
function signedWith(raw: Buffer, header: string, secret: string, tolerance: number, nowMs: number): boolean {
  const signature = Stripe.webhooks.signature;
  if (!signature) throw new Error('the Stripe SDK has no webhook signature helper');
  return eachSignature(header).some((alone) => {
    try {
      return signature.verifyHeader(raw, alone, secret, tolerance, undefined, nowMs);
    } catch {
      return false;
    }
  });
}

/** The scheme of Stripe's signatures, the one the SDK checks (its `EXPECTED_SCHEME`). */
const SIGNATURE_SCHEME = 'v1';

/**
 * The header once for each of its signatures, the others left out. The SDK compares all of a header's
 * signatures in one pass that throws at the first it cannot compare, so a malformed one (`v1=` appended)
 * hid a valid one beside it. Entries are read as the SDK reads them: split on commas, named by what comes
 * before their first `=`.
 */
function eachSignature(header: string): string[] {
  const entries = header.split(',');
  const isSignature = (entry: string) => entry.split('=')[0] === SIGNATURE_SCHEME;
  const signatures = entries.filter(isSignature);
  if (signatures.length < 2) return [header];
  const others = entries.filter((entry) => !isSignature(entry));
  return signatures.map((signature) => [...others, signature].join(','));
}

/**
 * JSON is UTF-8: bytes that are not are refused rather than stored with replacement characters. A byte
 * order mark is kept, so JSON.parse refuses it as before.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseEvent(raw: Buffer): InboxEvent {
  let text: string;
  let body: unknown;
  try {
    text = utf8.decode(raw);
    body = JSON.parse(text);
  } catch {
    throw new Refusal(400, 'invalid_json', 'the body is not UTF-8 JSON');
  }
  try {
    return toInboxEvent(body, text);
  } catch (error) {
    if (error instanceof NotAnEventError) throw new Refusal(400, error.code, error.message);
    throw error;
  }
}
