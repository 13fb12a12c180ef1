import { StripeError } from '../core/errors.ts';
import type { ApiFaultInjector } from '../emulator.ts';
import { errorResponse } from '../server/app.ts';
import { type ApiFault, FaultHeaderError, parseFaultHeader, planApiFaults } from './api-plan.ts';
import { faultResponse } from './responses.ts';
import type { FaultState } from './state.ts';

/** The request header that asks for a fault on this one call: `Emulator-Fault: 503`. */
export const FAULT_HEADER = 'emulator-fault';

/**
 * API faults as the HTTP layer sees them: given a `/v1` request, wait (latency, timeout) and then either
 * let it through (`null`) or answer in its place (429, 500, 503). Control paths are never faulted.
 */
export function createApiFaultInjector(state: FaultState, apiVersion: string): ApiFaultInjector {
  return {
    async intercept(request, requestId) {
      const url = new URL(request.url);
      if (!url.pathname.startsWith('/v1/')) return null;
      const version = request.headers.get('stripe-version') ?? apiVersion;
      let header: ApiFault[] | null;
      try {
        header = parseFaultHeader(request.headers.get(FAULT_HEADER));
      } catch (error) {
        if (!(error instanceof FaultHeaderError)) throw error;
        const invalid = new StripeError(400, { type: 'invalid_request_error', message: error.message });
        return errorResponse(invalid, requestId, version);
      }
      const line = { method: request.method, path: url.pathname };
      const plan = planApiFaults(line, header, state.apiQueue, state.api, state.apiRandom);
      for (const fault of plan.faults) {
        if (fault.kind !== 'latency' || fault.ms > 0) state.countApplied(fault.kind);
        if (fault.kind === 'latency') await sleep(fault.ms, request.signal);
        else if (fault.kind === 'timeout') await holdPastClientTimeout(request, fault.holdMs);
        else return faultResponse(fault.kind, requestId, version);
      }
      return null;
    },
  };
}

/**
 * A timeout as clients meet it in production: Stripe receives the request and does the work, but the
 * answer comes too late. The body is read first (the client may hang up while we wait); the request
 * then runs when the client disconnects or `holdMs` passes, whichever is first. An SDK retry carrying
 * the same idempotency key therefore gets the saved response, as it would from Stripe.
 */
async function holdPastClientTimeout(request: Request, holdMs: number): Promise<void> {
  if (request.body) await request.clone().arrayBuffer();
  await sleep(holdMs, request.signal);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
