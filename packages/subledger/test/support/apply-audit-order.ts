import type pg from 'pg';
import type { Emulator } from 'stripe-emulator';
import { rowsOfEveryPartition } from './auditor-stripe.ts';

/**
 * The write log held up against the order in which Stripe emitted the events. An event is applied only
 * when it is strictly newer than the row (see `mirror-writer.ts`), and a fetch never lowers a row's
 * version, so every event that writes a row must have been emitted after each event that wrote it
 * before, fetches in between or not. A write of an older state shows here even when it happened inside
 * one second and was healed before the run ended, which the mirror's final state cannot show.
 */

/** An event written over a row that an event emitted after it had already written. */
export type MisorderedWrite = {
  table: string;
  id: string;
  eventId: string;
  /** The latest-emitted event that had written the row before. */
  laterEventId: string;
  /** What the row held when it was overwritten: that event's payload, or a fetch written since. */
  over: 'event' | 'fetch';
};

/**
 * The ids of the events the emulator emitted, each partition's in the order it emitted them (rows of
 * different partitions never meet, so their order between partitions does not matter).
 */
export const emittedEventIds = (emulator: Emulator): string[] =>
  rowsOfEveryPartition(emulator, 'event').map((event) => event.id);

type LoggedWrite = { table_name: string; id: string; source: string; new_event_id: string | null };

/** What the log says a row has held so far. */
type RowHistory = { latestEventId: string; latestPosition: number; lastSource: 'event' | 'fetch' };

/**
 * Every event-sourced write, in the log's order, that wrote a row some later-emitted event had written
 * before. Events missing from `emitted` (the emission order) cannot be placed and are passed over.
 * Subscription items carry the event of the subscription write that wrote them, so they are held to the
 * same order.
 */
export async function readMisorderedWrites(
  pool: pg.Pool,
  emitted: readonly string[],
): Promise<MisorderedWrite[]> {
  const positions = new Map(emitted.map((eventId, position) => [eventId, position]));
  const { rows } = await pool.query<LoggedWrite>(
    'select table_name, id, source, new_event_id from audit_mirror_writes order by seq',
  );
  const histories = new Map<string, RowHistory>();
  const misordered: MisorderedWrite[] = [];
  for (const write of rows) {
    const key = `${write.table_name} ${write.id}`;
    const history = histories.get(key);
    if (write.source !== 'event') {
      if (history) history.lastSource = 'fetch';
      continue;
    }
    const eventId = write.new_event_id;
    const position = eventId === null ? undefined : positions.get(eventId);
    if (eventId === null || position === undefined) continue;
    if (history && history.latestPosition > position)
      misordered.push({
        table: write.table_name,
        id: write.id,
        eventId,
        laterEventId: history.latestEventId,
        over: history.lastSource,
      });
    histories.set(key, newerOf(history, eventId, position));
  }
  return misordered;
}

/** The row's history once `eventId` has written it: the latest-emitted writer stays the latest. */
function newerOf(history: RowHistory | undefined, eventId: string, position: number): RowHistory {
  if (history && history.latestPosition > position) return { ...history, lastSource: 'event' };
  return { latestEventId: eventId, latestPosition: position, lastSource: 'event' };
}

export const describeMisordered = (write: MisorderedWrite): string =>
  `${write.table} ${write.id}: ${write.eventId} overwrote ` +
  `${write.over === 'fetch' ? 'a fetch written since ' : ''}${write.laterEventId}, which was emitted after it`;
