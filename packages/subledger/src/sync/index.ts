export { accessRestoredIfRevoked } from './access-probe.ts';
export { type AccountSyncResult, customerByMetadata, syncAccount } from './account-sync.ts';
export {
  type AccountView,
  accountIdSchema,
  accountView,
  defaultPlace,
  linkedCustomer,
} from './account-view.ts';
export { type Answer, mirrorAnswers } from './answers.ts';
export { type BackfillOptions, type BackfillResult, backfill } from './backfill.ts';
export {
  CATCH_UP_DAYS,
  CATCH_UP_RETENTION_MESSAGE,
  type CatchUpOptions,
  type CatchUpResult,
  catchUp,
  withinEventRetention,
} from './catch-up.ts';
export { lockSerialKey } from './claim.ts';
export { ACCOUNT_METADATA_KEY, checkoutAccountId, subscriptionPeriodOf } from './columns.ts';
export { CommitGate, WORKERS_YIELD_MS } from './commit-gate.ts';
export { type DriftItem, type DriftProblem, driftOf, missedDrift, SILENT_FIELDS } from './drift.ts';
export { createSyncEngine, type SyncEngine, type SyncEngineOptions } from './engine.ts';
export {
  CONNECTED_ACCOUNT_ID_PATTERN,
  EVENT_ID_PATTERN,
  type InboxEvent,
  idOf,
  NotAnEventError,
  type StripeObject,
  toInboxEvent,
} from './envelope.ts';
export { CREDIT_GRANTS_CHANNEL, TOP_UP_METADATA_KEY } from './grant-requests.ts';
export { EVENT_HANDLERS } from './handlers.ts';
export { Inbox } from './inbox.ts';
export { migrateJobs } from './jobs.ts';
export { type ColumnContext, KINDS, type KindName } from './kinds.ts';
export { createLimiter, type Limiter } from './limiter.ts';
export { listObjects } from './listing.ts';
export { type MirrorWrite, writeMirror } from './mirror-writer.ts';
export type { OnProgress, SyncProgress } from './progress.ts';
export { type ReconcileOptions, type ReconcileResult, reconcile } from './reconcile.ts';
export { describeEvent, type EventRecord, type ReplayResult, type ReplaySelector, replay } from './replay.ts';
export { RECONCILE_TASK } from './scheduled-reconcile.ts';
export {
  type BackfillCall,
  type CatchUpCall,
  type ReconcileCall,
  SelfHealingError,
  type SelfHealingErrorCode,
} from './self-healing.ts';
export { type Place, requestOptions } from './stripe-reads.ts';
export { connectionStringOf, WakeLoop } from './wake-loop.ts';
export {
  createWebhookAcceptor,
  createWebhookHandler,
  deliveryOfRequest,
  MAX_WEBHOOK_BYTES,
  type WebhookAnswer,
  type WebhookDelivery,
  type WebhookFailure,
} from './webhooks.ts';
export { InboxWorker } from './worker.ts';
