import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';

type Fetch = (request: Request) => Response | Promise<Response>;

const REFUSALS: Record<string, { status: number; reason: string; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'request_too_large',
    message: 'the request line and headers are over 16 KB',
  },
  // Node's headers or request timeout: a client too slow to send its request, not a malformed one.
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'request_timeout',
    message: 'the request was not received in time',
  },
};

const MALFORMED = {
  status: 400,
  reason: 'Bad Request',
  code: 'malformed_request',
  message: 'not a valid HTTP request',
};

/**
 * Serves the app over Node's HTTP server. A request Node refuses before the app sees it (headers or URL
 * over its limit, broken HTTP) gets the API's coded error body and a `Request-Id` too, instead of
 * Node's bare status line.
 */
export function serveHttp(fetch: Fetch, options: { port: number; hostname?: string }): Server {
  const server = serve({
    fetch,
    port: options.port,
    ...(options.hostname ? { hostname: options.hostname } : {}),
  });
  (server as Server).on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const refusal = REFUSALS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
    socket.end(
      `HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nRequest-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server as Server;
}
