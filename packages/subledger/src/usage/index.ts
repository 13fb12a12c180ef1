export { recordUsage, UsageError, type UsageRecord, type UsageWindow, usageSince } from './record.ts';
