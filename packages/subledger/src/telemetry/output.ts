/**
 * Calls `gone` when a write to `output` fails because no one reads it any more: a closed pipe (EPIPE,
 * `… | head -1`) or a closed terminal (EIO, an ssh session or window gone). Without a listener, Node
 * raises the stream's `error` event as an uncaught exception and the process exits 1, whatever it was
 * doing. The listener stays for the life of the stream: the error of a write comes after it returns.
 */
export function onOutputGone(output: NodeJS.EventEmitter, gone: () => void): void {
  output.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EIO' || error.code === 'EPIPE') gone();
  });
}
