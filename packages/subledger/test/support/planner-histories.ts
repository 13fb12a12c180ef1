import assert from 'node:assert/strict';
import fc from 'fast-check';
import { API_VERSION } from '../../src/stripe/index.ts';
import { type Handling, handlingOf } from '../../src/sync/handlers.ts';
import { type EventFacts, planBatch, type RowVersion } from '../../src/sync/ordering.ts';
import { OLD_API_VERSION } from './stripe-timeline.ts';
import { rarely } from './timeline-schedules.ts';

/**
 * Histories of objects in Stripe, delivered in any order, and a mirror driven by the pure planner alone:
 * the model of the ordering rule's property tests.
 */

/**
 * How an object's events run in Stripe. Its history may be older than the events we are sent, so it
 * may open with an update or a deletion; invoice payments and entitlement summaries have no creation
 * event at all. A product's custom id may be used again after a deletion; a customer's never is.
 */
type Story = {
  objectType: string;
  idPrefix: string;
  opens: string[];
  update: string;
  deletion: string | null;
  creationAfterDeletion: string | null;
};

const STORIES: Story[] = [
  {
    objectType: 'product',
    idPrefix: 'prod',
    opens: ['product.created', 'product.updated', 'product.deleted'],
    update: 'product.updated',
    deletion: 'product.deleted',
    creationAfterDeletion: 'product.created',
  },
  {
    objectType: 'customer',
    idPrefix: 'cus',
    opens: ['customer.created', 'customer.updated', 'customer.deleted'],
    update: 'customer.updated',
    deletion: 'customer.deleted',
    creationAfterDeletion: null,
  },
  {
    objectType: 'invoice_payment',
    idPrefix: 'inpay',
    opens: ['invoice_payment.paid'],
    update: 'invoice_payment.paid',
    deletion: null,
    creationAfterDeletion: null,
  },
  {
    objectType: 'entitlements.active_entitlement_summary',
    idPrefix: 'cus',
    opens: ['entitlements.active_entitlement_summary.updated'],
    update: 'entitlements.active_entitlement_summary.updated',
    deletion: null,
    creationAfterDeletion: null,
  },
];

/**
 * The history of one object in Stripe: each event carries the object's state after it (state i), with
 * non-decreasing `created` seconds (several per second are common).
 */
export type History = { key: string; events: HistoryEvent[]; endsDeleted: boolean; newest: number };
export type HistoryEvent = EventFacts & { state: number };

type HistorySpec = {
  story: Story;
  opening: number;
  steps: { gap: number; oldApi: boolean; deletes: boolean }[];
};

/** The type of the event after `previous`, or null when the object is gone for good. */
function nextType(story: Story, previous: string, deletes: boolean): string | null {
  if (previous === story.deletion) return story.creationAfterDeletion;
  return deletes && story.deletion ? story.deletion : story.update;
}

function historyOf({ story, opening, steps }: HistorySpec, objectIndex: number): History {
  const key = `${story.objectType}|platform|false|${story.idPrefix}_${objectIndex}`;
  const events: HistoryEvent[] = [];
  let second = 1_700_000_000;
  let type: string | null = story.opens[opening % story.opens.length] as string;
  for (const step of steps) {
    if (type === null) break;
    second += events.length === 0 ? 0 : step.gap;
    events.push({
      id: `evt_${objectIndex}_${events.length}`,
      type,
      created: second,
      apiVersion: step.oldApi ? OLD_API_VERSION : API_VERSION,
      objectKey: key,
      handling: handlingOf(type, story.objectType) as Handling,
      state: events.length,
    });
    type = nextType(story, type, step.deletes);
  }
  const last = events.at(-1) as HistoryEvent;
  return { key, events, endsDeleted: last.handling.action === 'tombstone', newest: last.created };
}

/** Several objects' histories, side by side in one stream of events. */
const historiesArbitrary: fc.Arbitrary<History[]> = fc
  .array(
    fc.record({
      story: fc.constantFrom(...STORIES),
      opening: fc.nat(),
      steps: fc.array(fc.record({ gap: fc.nat(2), oldApi: rarely(4), deletes: rarely(4) }), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .map((specs) => specs.map(historyOf));

/** Deliveries of histories: every event at least once, some again, in any order, cut into batches. */
export const deliveryArbitrary = historiesArbitrary.chain((histories) => {
  const events = histories.flatMap((history) => history.events);
  const indices = events.map((_, index) => index);
  return fc
    .array(fc.constantFrom(...indices), { maxLength: 4 })
    .chain((extra) => {
      const all = [...indices, ...extra];
      return fc.record({
        order: fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        cuts: fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
        fetchAfter: fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
      });
    })
    .map((delivery) => ({ histories, events, ...delivery }));
});

type ModelRow = RowVersion & { state: number };

/**
 * The mirror as the planner drives it: rows, and the fetches it asked for. A fetch reads the object as
 * Stripe has it once its whole history has happened: its newest state, at a second no earlier than any
 * of its events.
 */
export class ModelMirror {
  readonly rows = new Map<string, ModelRow>();
  readonly #pendingFetches = new Map<string, number>();
  readonly #histories: Map<string, History>;

  constructor(histories: History[]) {
    this.#histories = new Map(histories.map((history) => [history.key, history]));
  }

  apply(batch: HistoryEvent[]): void {
    const plan = planBatch(batch, this.rows, API_VERSION);
    for (const [key, decision] of plan.decisions) {
      if (decision.action === 'apply') {
        const applied = batch.find((candidate) => candidate.id === decision.event.id) as HistoryEvent;
        this.#write(key, {
          lastEventId: applied.id,
          lastEventCreated: applied.created,
          deleted: applied.handling.action === 'tombstone',
          state: applied.state,
        });
      }
      if (decision.action === 'refetch')
        this.#pendingFetches.set(key, Math.max(this.#pendingFetches.get(key) ?? 0, decision.knownCreated));
    }
  }

  fetchAll(): void {
    for (const [key, knownCreated] of this.#pendingFetches) {
      const history = this.#histories.get(key) as History;
      const version = Math.max(knownCreated, history.newest);
      const current = this.rows.get(key);
      if (!current || version >= current.lastEventCreated)
        this.#write(key, {
          lastEventId: null,
          lastEventCreated: version,
          deleted: history.endsDeleted,
          state: history.events.length - 1,
        });
    }
    this.#pendingFetches.clear();
  }

  #write(key: string, next: ModelRow): void {
    const current = this.rows.get(key);
    if (current) {
      assert.ok(next.lastEventCreated >= current.lastEventCreated, `${key}: the version moved backwards`);
      assert.ok(
        next.state >= current.state,
        `${key}: state ${next.state} replaced the newer ${current.state}`,
      );
    }
    this.rows.set(key, next);
  }
}
