import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed body; `id` and `type` for a Stripe event. */
  json: { id: string; type: string; account?: string; [key: string]: unknown };
};

/** Decides the status code of each request (`index` counts from 0); 200 when absent. */
export type Responder = (request: ReceivedRequest, index: number) => number | Promise<number>;

export type Receiver = {
  url: string;
  received: ReceivedRequest[];
  /** Answers the requests that come next with this responder. */
  respondWith: (responder: Responder) => void;
  close: () => Promise<void>;
};

/** A local webhook endpoint on a free port that records every request it gets, in arrival order. */
export async function startReceiver(responder?: Responder): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  let respond: Responder = responder ?? (() => 200);
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: ReceivedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
        json: JSON.parse(body || '{}'),
      };
      const index = received.length;
      received.push(entry);
      response.statusCode = await respond(entry, index);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    respondWith: (next) => {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
