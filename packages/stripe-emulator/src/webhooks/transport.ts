import http from 'node:http';
import https from 'node:https';

export type PostOutcome = { statusCode: number; error: null } | { statusCode: null; error: string };

/**
 * One POST to an endpoint, as Stripe makes it: a fresh connection (`agent: false`, so nothing lingers
 * to keep the process alive), the response body read and discarded, and a hard time limit after which
 * the attempt counts as failed. Never rejects: every way it can go wrong is an outcome.
 */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      settle({ statusCode: null, error: `timed out after ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    timer.unref();
    const client = url.startsWith('https:') ? https : http;
    const request = client.request(url, {
      method: 'POST',
      agent: false,
      signal,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => settle({ statusCode: response.statusCode ?? 0, error: null }));
      response.on('error', (error) => settle({ statusCode: null, error: describe(error) }));
    });
    request.on('error', (error) => settle({ statusCode: null, error: describe(error) }));
    request.end(body);
  });
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${error.message}` : error.message;
}
