import type { FaultOptions } from 'stripe-emulator';
import { deliveryAttempts } from './deliveries.ts';

/** Faults set at the emulator while a workload runs, and what its logs say they did. */

/** Replaces the fault rates `options` names and queues its one-shot faults (`POST /_emulator/faults`). */
export async function setFaults(emulatorUrl: string, options: FaultOptions): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options),
  });
  if (!response.ok) throw new Error(`the emulator refused the faults: ${await response.text()}`);
}

/** Turns every fault off (`DELETE /_emulator/faults`): posting `{}` would leave the rates in force. */
export async function clearFaults(emulatorUrl: string): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/faults`, { method: 'DELETE' });
  if (!response.ok) throw new Error(`the emulator kept its faults: ${await response.text()}`);
}

/** The API faults that acted since the emulator started, by kind (`rate_limit`, `server_error` …). */
export async function appliedApiFaults(emulatorUrl: string): Promise<Record<string, number>> {
  const response = await fetch(`${emulatorUrl}/_emulator/faults`);
  const body = (await response.json()) as { applied: { api: Record<string, number> } };
  return body.applied.api;
}

/** Events the emulator delivered with a 2xx answer at least once (the others were dropped). */
export async function deliveredEventIds(emulatorUrl: string): Promise<Set<string>> {
  const attempts = await deliveryAttempts(emulatorUrl, { status: 'succeeded' });
  return new Set(attempts.map((attempt) => attempt.event));
}

/** Per event, the copies (0 = the original) that the endpoint acknowledged, in ascending order. */
export async function acknowledgedCopies(emulatorUrl: string): Promise<Map<string, number[]>> {
  const copies = new Map<string, number[]>();
  for (const attempt of await deliveryAttempts(emulatorUrl, { status: 'succeeded' }))
    copies.set(attempt.event, [...(copies.get(attempt.event) ?? []), attempt.copy]);
  for (const list of copies.values()) list.sort((a, b) => a - b);
  return copies;
}
