import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from './scopes.ts';

export type RateLimiter = {
  take(principal: Principal): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
};

// The burst allowance beyond `perSecond` refills over this window. Longer lets a client sit above its
// rate for less: sustained throughput is at most perSecond + (burst − perSecond) / 10 per second.
const BURST_WINDOW_SECONDS = 10;

/**
 * Per-process limits per key (by id) or token (by subject): `perSecond` requests each second, and up to
 * `burst` at once. N servers behind a balancer allow up to N times as much.
 */
export function createRateLimiter(options: { perSecond: number; burst: number }): RateLimiter {
  const steady = Math.min(options.perSecond, options.burst);
  const limiter = new BurstyRateLimiter(
    new RateLimiterMemory({ keyPrefix: 'steady', points: steady, duration: 1 }),
    new RateLimiterMemory({
      keyPrefix: 'burst',
      points: options.burst - steady,
      duration: BURST_WINDOW_SECONDS,
    }),
  );
  return {
    async take(principal) {
      try {
        await limiter.consume(limitKey(principal));
        return { ok: true };
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        // Retry-After is in whole seconds; rounding down to 0 would invite an immediate retry.
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      }
    },
  };
}

const limitKey = (principal: Principal) =>
  principal.kind === 'key' ? `key:${principal.keyId}` : `token:${principal.subject}`;
