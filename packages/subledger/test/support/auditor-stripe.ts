import type { Emulator } from 'stripe-emulator';
import { PLATFORM } from '../../src/store/index.ts';
import { idOf, type Json, toJson } from './auditor-json.ts';

/**
 * Stripe's side of the audit, read from the emulator's own store rather than through its API: a read
 * changes nothing, and nothing the code under test does can colour it.
 */

export type StoredObject = { id: string; object?: string; customer?: unknown; [key: string]: unknown };
export type Partition = ReturnType<Emulator['partition']>;
/** Where objects live, as the mirror's rows say it. */
export type Place = { stripeAccount: string; livemode: boolean };

export const SUMMARY = 'entitlements.active_entitlement_summary';

export const rowsOf = (partition: Partition, table: string): StoredObject[] => [
  ...partition.table<StoredObject>(table).values(),
];

/** The place a partition's objects are mirrored in. */
export const placeOf = (partition: Partition): Place => ({
  stripeAccount: partition.account ?? PLATFORM,
  livemode: partition.livemode,
});

/**
 * Every object of `table` in every partition (the platform and each connected account, test and live):
 * each partition's in the order it stored them.
 */
export const rowsOfEveryPartition = (emulator: Emulator, table: string): StoredObject[] =>
  emulator.store.partitions().flatMap((partition) => rowsOf(partition, table));

/** Ids of each kind that some event carried: a webhook could have told the mirror about them. */
export function announcedIds(partition: Partition): Map<string, Set<string>> {
  const announced = new Map<string, Set<string>>();
  for (const event of rowsOf(partition, 'event')) {
    const object = (event.data as { object?: StoredObject } | undefined)?.object;
    if (!object?.object) continue;
    const id = object.object === SUMMARY ? idOf(object.customer) : object.id;
    if (!id) continue;
    const ids = announced.get(object.object) ?? new Set<string>();
    ids.add(id);
    announced.set(object.object, ids);
  }
  return announced;
}

/** The summary of every customer who holds entitlements or was announced to (even with none left). */
export function expectedSummaries(partition: Partition, announced: Set<string>): Map<string, Json> {
  const customers = new Set(announced);
  for (const holding of rowsOf(partition, 'active_entitlement_holding'))
    customers.add(String(holding.customer));
  return new Map([...customers].map((customer) => [customer, summaryOf(partition, customer)]));
}

/** Stripe's `entitlements.active_entitlement_summary` of a customer, newest entitlement first. */
export function summaryOf(partition: Partition, customer: string): Json {
  const held = new Set(
    rowsOf(partition, 'active_entitlement_holding')
      .filter((holding) => holding.customer === customer)
      .map((holding) => holding.id),
  );
  const data = partition
    .table<StoredObject>('entitlements.active_entitlement')
    .newestFirst()
    .filter((entitlement) => held.has(entitlement.id));
  return toJson({
    object: SUMMARY,
    customer,
    entitlements: { object: 'list', data, has_more: false, url: `/v1/customer/${customer}/entitlements` },
    livemode: partition.livemode,
  });
}

/** Every version of the given objects that some event carried. */
export function snapshotsOf(partition: Partition, ids: ReadonlySet<string>): StoredObject[] {
  return rowsOf(partition, 'event')
    .map((event) => (event.data as { object?: StoredObject } | undefined)?.object)
    .filter((object): object is StoredObject => object !== undefined && ids.has(object.id));
}
