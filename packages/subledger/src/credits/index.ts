export {
  type Allocation,
  type Applied,
  allocate,
  applyOperations,
  availableBalance,
  type Entry,
  type EntryKind,
  type Hold,
  heldBalance,
  type Lot,
  type Operation,
  type Outcome,
  type PoolState,
  type Refusal,
  spendingOrder,
} from './ledger.ts';
export type { PoolKey, PoolOperation } from './pool-store.ts';
export { type CreditsService, createCreditsService, type Grant, type GrantSource } from './service.ts';
