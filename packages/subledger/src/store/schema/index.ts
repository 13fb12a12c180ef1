export * from './inbox.ts';
export * from './mirror.ts';
