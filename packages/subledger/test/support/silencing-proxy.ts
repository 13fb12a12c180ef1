import net, { type AddressInfo } from 'node:net';

export type SilencingProxy = {
  /** `target` with the proxy in place of its host and port. */
  url: string;
  /** Nothing crosses the connections open now any more, either way; they stay open. Later ones are relayed. */
  silence: () => void;
  /** How many silenced connections the client has not closed yet. */
  silencedOpen: () => number;
  close: () => Promise<void>;
};

type Relayed = { client: net.Socket; server: net.Socket; silent: boolean };

/**
 * A TCP proxy to the PostgreSQL server at `target` that can go silent on the connections it carries, as a
 * network path that drops their packets does (a managed-PG failover, a NAT entry that timed out): the
 * client's socket stays open and its statement is never answered. Connections made after that are relayed,
 * as once the network has recovered. Closing, by either side, is passed on.
 */
export async function silencingProxy(target: string): Promise<SilencingProxy> {
  const upstream = new URL(target);
  const relayed = new Set<Relayed>();
  const proxy = net.createServer((client) => {
    const server = net.connect(Number(upstream.port), upstream.hostname);
    const connection: Relayed = { client, server, silent: false };
    relayed.add(connection);
    client.on('data', (chunk) => connection.silent || server.write(chunk));
    server.on('data', (chunk) => connection.silent || client.write(chunk));
    const closed = () => {
      relayed.delete(connection);
      client.destroy();
      server.destroy();
    };
    for (const socket of [client, server]) socket.on('close', closed).on('error', () => {});
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    url: url.toString(),
    silence: () => {
      for (const connection of relayed) connection.silent = true;
    },
    silencedOpen: () => [...relayed].filter((connection) => connection.silent).length,
    close: async () => {
      for (const { client } of relayed) client.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
