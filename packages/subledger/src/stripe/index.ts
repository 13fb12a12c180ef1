export {
  API_VERSION,
  createStripeClient,
  isLastingRefusal,
  isMissing,
  type StripeClientOptions,
} from './client.ts';
