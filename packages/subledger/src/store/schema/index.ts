export * from './access.ts';
export * from './auth.ts';
export * from './checkpoints.ts';
export * from './connected-accounts.ts';
export * from './credits.ts';
export * from './inbox.ts';
export * from './mirror.ts';
export * from './usage.ts';
