export { formatTopUp, parseTopUp } from './grant-sources.ts';
export { createGranter, type Granter } from './granter.ts';
export type { Grant, GrantResult, GrantSource } from './grants.ts';
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
export { grantsOfInvoice, type InvoiceLine, type PaidInvoice, type PlanGrant } from './plan-grants.ts';
export type { PoolKey, PoolOperation } from './pool-store.ts';
export { type CreditsService, createCreditsService } from './service.ts';
export type { EntryView, LotView, PoolView } from './statement.ts';
export { VERIFY_LIMIT, type VerifyOptions, type VerifyReport, verifyCredits } from './verify.ts';
export {
  PROBLEM_CODES,
  type Problem,
  type ProblemCode,
  poolLabel,
  problemsOf,
  type VerifyRows,
} from './verify-problems.ts';
