/** How webhooks are delivered; `EmulatorOptions.webhooks`. */
export type WebhookOptions = {
  /** How long one attempt may take before it counts as failed (default 5 000). */
  timeoutMs?: number;
  retry?: RetryPolicyInput;
};

export type RetryPolicyInput = {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** Wait before the second attempt (default 500); each later wait doubles … */
  initialDelayMs?: number;
  /** … up to this (default 4 000). */
  maxDelayMs?: number;
};

export type RetryPolicy = Required<RetryPolicyInput>;

export type DeliverySettings = { timeoutMs: number; retry: RetryPolicy };

/**
 * Real Stripe retries for three days; a test cannot wait that long. These defaults keep Stripe's shape
 * (exponential, capped, eventually failed) at a scale a test suite can sit through: 0.5 s, 1 s, 2 s,
 * 4 s, then failed, 7.5 s after the first attempt.
 */
export const DEFAULT_DELIVERY: DeliverySettings = {
  timeoutMs: 5_000,
  retry: { attempts: 5, initialDelayMs: 500, maxDelayMs: 4_000 },
};

export function deliverySettings(options: WebhookOptions | undefined): DeliverySettings {
  const settings: DeliverySettings = {
    timeoutMs: options?.timeoutMs ?? DEFAULT_DELIVERY.timeoutMs,
    retry: { ...DEFAULT_DELIVERY.retry, ...options?.retry },
  };
  const { retry } = settings;
  if (!(settings.timeoutMs > 0)) throw new RangeError('webhooks.timeoutMs must be positive');
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1)
    throw new RangeError('webhooks.retry.attempts must be a whole number ≥ 1');
  if (!(retry.initialDelayMs >= 0 && retry.maxDelayMs >= retry.initialDelayMs))
    throw new RangeError('webhooks.retry needs 0 ≤ initialDelayMs ≤ maxDelayMs');
  return settings;
}
