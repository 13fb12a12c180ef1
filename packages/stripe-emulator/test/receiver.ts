import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';

export type Received = { event: Stripe.Event; signature: string; body: string };

/**
 * A local webhook receiver, as an app would run one: it verifies every delivery with the SDK's
 * `constructEvent` and records what it accepted and what it refused.
 */
export class WebhookReceiver {
  readonly accepted: Received[] = [];
  readonly refused: { body: string; reason: string }[] = [];
  secret = '';
  readonly #stripe: Stripe;
  readonly #server: Server;

  constructor(stripe: Stripe) {
    this.#stripe = stripe;
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = String(request.headers['stripe-signature'] ?? '');
        try {
          const event = this.#stripe.webhooks.constructEvent(body, signature, this.secret);
          this.accepted.push({ event, signature, body });
          response.writeHead(200).end('{}');
        } catch (error) {
          this.refused.push({ body, reason: (error as Error).message });
          response.writeHead(400).end();
        }
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/webhooks`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  types(): string[] {
    return this.accepted.map((received) => received.event.type);
  }
}
