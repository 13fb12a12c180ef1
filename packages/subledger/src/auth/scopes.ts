/** What a credential may do; each scope includes the ones before it. */
export type Scope = 'read' | 'write' | 'admin';

/** Who made a request, once its credential is verified. */
export type Principal =
  | { kind: 'key'; keyId: string; scope: Scope; livemode: boolean }
  | { kind: 'token'; subject: string; accountId: string; scope: 'read' };

const RANK: Record<Scope, number> = { read: 0, write: 1, admin: 2 };

export const isScope = (value: unknown): value is Scope =>
  typeof value === 'string' && Object.hasOwn(RANK, value);

/** Whether the principal's scope covers `required` (read < write < admin). */
export function allows(principal: Principal, required: Scope): boolean {
  return RANK[principal.scope] >= RANK[required];
}

/**
 * A token sees only its own account; a key sees every account of its environment (the authenticator
 * has already refused a key of the other environment).
 */
export function mayAccess(principal: Principal, accountId: string): boolean {
  return principal.kind === 'key' || principal.accountId === accountId;
}
