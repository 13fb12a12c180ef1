export { type AppDependencies, createApp } from './app.ts';
