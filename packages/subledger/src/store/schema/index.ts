export * from './usage.ts';
export * from './checkpoints.ts';
export * from './inbox.ts';
export * from './mirror.ts';
