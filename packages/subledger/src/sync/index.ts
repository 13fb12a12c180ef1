export { createSyncEngine, type SyncEngine, type SyncEngineOptions } from './engine.ts';
export { type InboxEvent, NotAnEventError, toInboxEvent } from './envelope.ts';
export { EVENT_HANDLERS } from './handlers.ts';
export { Inbox } from './inbox.ts';
export { migrateJobs } from './jobs.ts';
export { KINDS, type KindName } from './kinds.ts';
export { createWebhookHandler, MAX_WEBHOOK_BYTES } from './webhooks.ts';
export { InboxWorker } from './worker.ts';
