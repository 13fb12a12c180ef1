import { appendFileSync } from 'node:fs';
import { createLogger } from '../../src/telemetry/index.ts';

// Run on a terminal that is then closed: logs after its SIGHUP, as `start`'s graceful stop does, and
// notes in HANGUP_MARKS whether it got through or crashed.

const marks = process.env.HANGUP_MARKS as string;
const mark = (line: string) => appendFileSync(marks, `${line}\n`);
const logger = createLogger('info');
process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
  mark(`crashed: ${error.code ?? error.message}`);
  process.exit(1);
});
process.on('SIGHUP', () => {
  logger.info('Shutting down: the terminal is gone');
  setTimeout(() => {
    logger.info('still shutting down');
    setTimeout(() => {
      mark('stopped');
      process.exit(0);
    }, 200);
  }, 200);
});
logger.info('ready');
mark('ready');
setInterval(() => {}, 1000);
