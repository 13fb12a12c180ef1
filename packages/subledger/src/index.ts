export {
  type Access,
  type AccessPolicy,
  type AccessState,
  accessOf,
  type CheckResult,
  checkFeature,
} from './access/index.ts';
export { type Catalog, CatalogError, defineCatalog } from './catalog/index.ts';
export { type Config, ConfigError, loadConfig } from './config/index.ts';
export { type AccountService, apiDocument } from './http/index.ts';
export { connect, type Database, migrate, openDatabase, startEmbeddedPostgres } from './store/index.ts';
export { createStripeClient } from './stripe/index.ts';
export { createSubledger, type Subledger, type SubledgerOptions } from './subledger.ts';
export {
  type BackfillCall,
  type BackfillResult,
  type CatchUpCall,
  type CatchUpResult,
  EVENT_HANDLERS,
  type InboxEvent,
  type ReconcileCall,
  type ReconcileResult,
  type ReplayResult,
  type ReplaySelector,
  SelfHealingError,
  type SelfHealingErrorCode,
  type SyncProgress,
  toInboxEvent,
} from './sync/index.ts';
