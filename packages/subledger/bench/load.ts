/**
 * The load generator, run as its own process (`node load.ts <job.json>`) so that sending does not share
 * Subledger's event loop. It signs the stream's deliveries as Stripe does, sends them over keep-alive
 * HTTP at the job's pace (see `senders.ts`), and prints one JSON line with what it measured.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { type SignedDelivery, type Stream, signDeliveries } from './event-stream.ts';
import { type Answer, answerOf, type Pace, sendAll } from './senders.ts';

export type LoadJob = {
  url: string;
  secret: string;
  streamFile: string;
  baseSeconds: number;
  from: number;
  count: number;
  pace: Pace;
};

/** A delivery ready for the wire: its body outside the JS heap, so the collector has nothing to move. */
type WireDelivery = { body: Buffer; signature: string };

function post(agent: http.Agent, url: URL, delivery: WireDelivery): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': delivery.body.byteLength,
          'stripe-signature': delivery.signature,
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve(answerOf(response.statusCode ?? 0, Buffer.concat(chunks).toString())),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(delivery.body);
  });
}

const jobFile = process.argv[2];
if (!jobFile) throw new Error('usage: node load.ts <job.json>');
const job = JSON.parse(readFileSync(jobFile, 'utf8')) as LoadJob;
const deliveries = wireDeliveries(job);
// Open-loop latency counts from each delivery's scheduled time, so a collector pause here would be
// reported as the server's latency: the parsed stream is let go and collected before the first send.
(globalThis as { gc?: () => void }).gc?.();
const agent = new http.Agent({
  keepAlive: true,
  maxSockets: job.pace.mode === 'burst' ? job.pace.lanes : 128,
});
const url = new URL(job.url);
const result = await sendAll<WireDelivery>(deliveries, job.pace, (delivery) => post(agent, url, delivery));
agent.destroy();
process.stdout.write(`${JSON.stringify(result)}\n`);

function wireDeliveries(job: LoadJob): WireDelivery[] {
  const stream = JSON.parse(readFileSync(job.streamFile, 'utf8')) as Stream;
  return signDeliveries(stream, job).map((delivery: SignedDelivery) => ({
    body: Buffer.from(delivery.body),
    signature: delivery.signature,
  }));
}
