export { apiDocument } from './api.ts';
export { type AppDependencies, createApp } from './app.ts';
export type { AccountService } from './routes/accounts.ts';
export { serveHttp } from './serve.ts';
