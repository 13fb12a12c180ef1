import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RevokingProxy = { url: string; close: () => Promise<void> };

/**
 * A proxy to the emulator at `target` that answers as Stripe does for a connected account that revoked
 * the platform's access: every request with its `Stripe-Account` is refused, 403 `account_invalid`.
 */
export async function revokingProxy(target: string, revoked: string): Promise<RevokingProxy> {
  const upstream = new URL(target);
  const server = http.createServer((request, response) => {
    if (request.headers['stripe-account'] === revoked) {
      request.resume();
      refuse(response, revoked);
      return;
    }
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      // The SDK keeps its connections alive: without closing them, the server would never close.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Stripe's answer to a request on behalf of an account that deauthorized the platform. */
function refuse(response: http.ServerResponse, revoked: string): void {
  response.writeHead(403, { 'content-type': 'application/json', 'request-id': 'req_revoked' });
  response.end(
    JSON.stringify({
      error: {
        type: 'invalid_request_error',
        code: 'account_invalid',
        message: `The provided key 'sk_test_***' does not have access to account '${revoked}' (or that account does not exist). Application access may have been revoked.`,
      },
    }),
  );
}
