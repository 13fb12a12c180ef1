import { pino } from 'pino';

export type Logger = pino.Logger;

/** Field paths that may carry secrets; pino replaces their values before anything is written. */
const SECRET_PATHS = [
  'secret',
  'secrets',
  'secretKey',
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers["stripe-signature"]',
  '*.secret',
  '*.secretKey',
  'webhookSecrets',
  'connectWebhookSecrets',
  '*.webhookSecrets',
  '*.connectWebhookSecrets',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: SECRET_PATHS, censor: '[redacted]' } });
}
