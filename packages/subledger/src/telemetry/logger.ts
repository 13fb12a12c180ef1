import { pino } from 'pino';
import { onOutputGone } from './output.ts';

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
  return pino({ level, redact: { paths: SECRET_PATHS, censor: '[redacted]' } }, standardOutput());
}

/**
 * Standard output, as pino writes it by default, except that an output gone away does not crash the
 * process. pino drops lines only after EPIPE (a closed pipe) and throws any other error; a closed
 * terminal (ssh session or window) answers EIO, so `start`'s graceful stop after its SIGHUP crashed on
 * its first line. Lines written after that are dropped: there is no one left to read them.
 */
function standardOutput(): pino.DestinationStream {
  const output = pino.destination({ dest: 1, sync: false });
  onOutputGone(output, () => {
    output.write = () => true;
    output.flushSync = () => {};
  });
  return output;
}
