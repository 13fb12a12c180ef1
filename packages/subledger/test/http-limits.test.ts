import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { MAX_API_BODY_BYTES } from '../src/http/app.ts';
import { serveHttp } from '../src/http/index.ts';
import { type Stack, startStack } from './support/stack.ts';

// What the HTTP server refuses before a handler reads the request: each with a status, a code and a
// Request-Id, as every other answer.

let stack: Stack;
before(async () => {
  stack = await startStack({ webhookEndpoint: false, workers: false });
});
after(() => stack.close());

/**
 * POSTs `body` to `path` on a connection of its own, and reads the answer even when the server answers
 * before reading the whole body (the rest of which then meets a closed socket: that is the point).
 */
function postEarlyAnswered(path: string, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; requestId: string | undefined; code: string }>((resolve, reject) => {
    let answered = false;
    const outgoing = httpRequest(
      new URL(path, stack.url),
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            requestId: response.headers['request-id'] as string | undefined,
            code: JSON.parse(Buffer.concat(chunks).toString()).error.code,
          }),
        );
      },
    );
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    outgoing.end(body);
  });
}

test('an API body over 1 MiB is refused 413 payload_too_large, before its credential is looked at', async () => {
  const oversized = JSON.stringify({
    account_id: 'a',
    feature: 'f',
    padding: 'x'.repeat(MAX_API_BODY_BYTES),
  });
  const credentials: Record<string, string>[] = [{ authorization: `Bearer ${stack.apiKey}` }, {}];
  for (const headers of credentials) {
    const answer = await postEarlyAnswered('/v1/check', oversized, headers);
    assert.deepEqual([answer.status, answer.code], [413, 'payload_too_large']);
    assert.ok(answer.requestId);
  }
  const fits = await fetch(`${stack.url}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
    body: JSON.stringify({ account_id: 'a', feature: 'f' }),
  });
  assert.equal(fits.status, 200);
});

/** Writes raw bytes to the stack's server and reads its whole answer. */
async function rawExchange(bytes: string): Promise<string> {
  const { port } = new URL(stack.url);
  const socket = connect(Number(port), '127.0.0.1');
  return answerOf(socket, () => socket.write(bytes));
}

function answerOf(socket: Socket, send: () => unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    socket.on('connect', send);
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const codeIn = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.code;

test('headers over 16 KB get 431 request_too_large; broken HTTP gets 400 malformed_request', async () => {
  const huge = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 /);
  assert.equal(codeIn(huge), 'request_too_large');
  assert.match(huge, /\r\nRequest-Id: [0-9a-f-]{36}\r\n/);
  const broken = await rawExchange('THIS IS NOT HTTP\r\n\r\n');
  assert.match(broken, /^HTTP\/1\.1 400 /);
  assert.equal(codeIn(broken), 'malformed_request');
});

// Bounded well under Node's own timeout (60 s), whose answer would be the same 408.
test('a request Node times out gets 408 request_timeout, not malformed_request', {
  timeout: 10_000,
}, async () => {
  const server: Server = serveHttp(() => new Response('never'), { port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  try {
    // Node raises this code when headersTimeout or requestTimeout passes (checked every 30 s by default).
    const timedOut = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    // Listened for before connecting: the server may accept before the client hears it connected.
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const socket = connect(port, '127.0.0.1');
    const answer = await answerOf(socket, async () => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      server.emit('clientError', timedOut, await accepted);
    });
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.equal(codeIn(answer), 'request_timeout');
  } finally {
    server.close();
  }
});
