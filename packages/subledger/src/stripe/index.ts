export {
  API_VERSION,
  createStripeClient,
  isLastingRefusal,
  isMissing,
  isStripeUnavailable,
  type StripeClientOptions,
} from './client.ts';
