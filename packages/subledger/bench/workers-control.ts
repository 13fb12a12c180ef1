import { BroadcastChannel } from 'node:worker_threads';

type Signal = 'open' | 'warm' | 'warm-started' | 'warmed' | 'cooled' | 'go';

/**
 * Signals between the bench's server thread and its workers' thread. Each side keeps what arrived
 * before it waited, so a signal is never missed.
 */
export function controlChannel() {
  const channel = new BroadcastChannel('subledger-bench-workers');
  const arrived: Signal[] = [];
  const waiting = new Map<Signal, () => void>();
  channel.onmessage = (message) => {
    const signal = (message as { data: Signal }).data;
    const waiter = waiting.get(signal);
    if (waiter) {
      waiting.delete(signal);
      waiter();
    } else arrived.push(signal);
  };
  return {
    send: (signal: Signal) => channel.postMessage(signal),
    next(signal: Signal): Promise<void> {
      const at = arrived.indexOf(signal);
      if (at >= 0) {
        arrived.splice(at, 1);
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.set(signal, resolve));
    },
    close: () => channel.close(),
  };
}
