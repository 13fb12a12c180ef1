export { createLogger, type Logger } from './logger.ts';
export { Metrics, type MetricsSnapshot } from './metrics.ts';
export { onOutputGone } from './output.ts';
