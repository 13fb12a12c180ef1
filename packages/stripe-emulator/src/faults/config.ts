import { z } from 'zod';

/**
 * What can go wrong, and how often. The same shape is accepted as `EmulatorOptions.faults` (for a whole
 * run) and as the JSON body of `POST /_emulator/faults` (at run time). Probabilities are 0 … 1.
 */

const probability = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0).max(600_000);
const count = z.number().int().min(1).max(10_000);

/** API faults drawn for every `/v1` request; at most one status fault per request. */
export const apiFaultRatesSchema = z.strictObject({
  /** 429 `rate_limit_error` / `rate_limit`: the SDK does not retry it, as with real Stripe. */
  rateLimit: probability.optional(),
  /** 429 `lock_timeout` with `Stripe-Should-Retry: true`: the SDK retries it. */
  lockTimeout: probability.optional(),
  /** 500 `api_error`. */
  serverError: probability.optional(),
  /** 503 `api_error`. */
  unavailable: probability.optional(),
  /** The response is held for `timeoutMs` (or until the client gives up); the request still runs. */
  timeout: probability.optional(),
  /** Added to every request, before anything else happens. */
  latencyMs: milliseconds.optional(),
  /** How long a `timeout` fault holds the response (default 30 000). */
  timeoutMs: milliseconds.optional(),
});

/** Webhook faults drawn for every delivery of an event to an endpoint. */
export const webhookFaultRatesSchema = z.strictObject({
  /** The delivery never happens; the event is still listed by `/v1/events`. */
  drop: probability.optional(),
  /** The delivery happens `duplicateCopies + 1` times. */
  duplicate: probability.optional(),
  duplicateCopies: z.number().int().min(1).max(10).optional(),
  /** A delivery is held `delayMs` before it joins the endpoint's queue, so later events overtake it. */
  delayMs: milliseconds.optional(),
  /** How often `delayMs` applies (default 1 when `delayMs` is set). */
  delayProbability: probability.optional(),
  /** Deliveries to an endpoint are buffered until this many are waiting, then sent shuffled. */
  reorderWindow: z.number().int().min(2).max(1_000).optional(),
  /** … or until this long after the first one was buffered. */
  reorderWindowMs: milliseconds.optional(),
});

export const API_FAULT_KINDS = [
  'rate_limit',
  'lock_timeout',
  'server_error',
  'unavailable',
  'timeout',
  'latency',
] as const;
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];

/** The names a fault goes by in headers and queued faults: `429` is `rate_limit`, and so on. */
const API_FAULT_ALIASES: Record<string, ApiFaultKind> = {
  '429': 'rate_limit',
  rate_limit: 'rate_limit',
  lock_timeout: 'lock_timeout',
  '500': 'server_error',
  server_error: 'server_error',
  api_error: 'server_error',
  '503': 'unavailable',
  unavailable: 'unavailable',
  timeout: 'timeout',
  latency: 'latency',
};

export function apiFaultKind(name: string): ApiFaultKind | undefined {
  return API_FAULT_ALIASES[name.trim().toLowerCase()];
}

const apiFaultKindSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const kind = apiFaultKind(String(value));
  if (kind) return kind;
  ctx.addIssue({
    code: 'custom',
    message: `unknown fault '${value}'; use one of ${Object.keys(API_FAULT_ALIASES).join(', ')}`,
  });
  return z.NEVER;
});

/** "The next `count` requests (matching `method` and `path`) fail this way." */
export const queuedApiFaultSchema = z.strictObject({
  fault: apiFaultKindSchema,
  count: count.default(1),
  /** `GET`, `POST` or `DELETE`; any method when absent. */
  method: z
    .string()
    .transform((value) => value.toUpperCase())
    .optional(),
  /** `/v1/customers`, `/v1/customers/:id` or `/v1/customers/*`; any path when absent. */
  path: z.string().startsWith('/').optional(),
  latencyMs: milliseconds.optional(),
  timeoutMs: milliseconds.optional(),
});

/** "The next `count` events (of `eventType`) are delivered this way", to every endpoint that gets them. */
export const queuedWebhookFaultSchema = z.strictObject({
  fault: z.enum(['drop', 'duplicate', 'delay']),
  count: count.default(1),
  eventType: z.string().optional(),
  copies: z.number().int().min(1).max(10).optional(),
  delayMs: milliseconds.optional(),
});

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item.transform((one) => [one]), z.array(item)]).optional();

export const faultOptionsSchema = z.strictObject({
  api: apiFaultRatesSchema.optional(),
  webhooks: webhookFaultRatesSchema.optional(),
  next: z
    .strictObject({ api: oneOrMany(queuedApiFaultSchema), webhooks: oneOrMany(queuedWebhookFaultSchema) })
    .optional(),
});

export type ApiFaultRates = z.output<typeof apiFaultRatesSchema>;
export type WebhookFaultRates = z.output<typeof webhookFaultRatesSchema>;
export type QueuedApiFault = z.output<typeof queuedApiFaultSchema>;
export type QueuedWebhookFault = z.output<typeof queuedWebhookFaultSchema>;
/** `EmulatorOptions.faults` and the body of `POST /_emulator/faults`. */
export type FaultOptions = z.input<typeof faultOptionsSchema>;
export type ParsedFaultOptions = z.output<typeof faultOptionsSchema>;

export const DEFAULT_TIMEOUT_HOLD_MS = 30_000;

/** A readable reason for the first problem in a fault configuration. */
export function describeIssue(error: z.ZodError): { message: string; param: string } {
  const issue = innermost(error.issues[0]);
  const param = issue?.path.join('.') ?? '';
  return { message: `${param ? `${param}: ` : ''}${issue?.message ?? 'invalid fault configuration'}`, param };
}

/** For "one or many" unions, the problem inside the branch that got furthest, not "Invalid input". */
function innermost(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union') return issue;
  const nested = issue.errors.flat();
  const telling = nested.find((candidate) => candidate.code !== 'invalid_type') ?? nested[0];
  if (!telling) return issue;
  return innermost({ ...telling, path: [...issue.path, ...telling.path] });
}
