export { API_VERSION, createStripeClient, isMissing, type StripeClientOptions } from './client.ts';
