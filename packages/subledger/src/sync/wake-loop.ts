import pg from 'pg';

export type WakeLoopOptions = {
  connectionString: string;
  /** Notifications on this channel wake an idle loop at once; without one it looks every `idleMs`. */
  channel: string;
  /** Claims one unit of work and does it. */
  step: () => Promise<StepOutcome>;
  loops?: number;
  idleMs?: number;
  /**
   * After a step that found work but was not behind, wait this long before the next: a trickle of work
   * then gathers into one step instead of a step each. 0: no wait.
   */
  gatherMs?: number;
  /** Runs on the listening session once it is connected (it lives as long as the loop). */
  onListening?: (session: pg.Client) => Promise<void>;
  onError?: (error: unknown) => void;
};

/**
 * What a step found (0: nothing ready), and whether work is waiting behind it: then the next step starts
 * at once, without gathering.
 */
export type StepOutcome = { found: number; behind: boolean };

/**
 * Loops that run `step` back to back while there is work, and sleep until a notification or a timeout
 * when there is none. Postgres is the queue; a notification only says "look".
 *
 * A notification wakes one sleeping loop, not all of them: a trickle of work is then one step, not a
 * step per loop with all but one finding nothing. One that comes while no loop sleeps is remembered, so
 * the next loop about to sleep looks again first: work asked for during a step is never left waiting
 * for the idle timeout.
 */
export class WakeLoop {
  readonly #options: WakeLoopOptions;
  #running = false;
  #loops: Promise<void>[] = [];
  #sleepers: (() => void)[] = [];
  #noticed = false;
  #stepping = 0;
  /** A step found nothing while a sibling's was running: it may have been held back by that step's keys. */
  #missedBeside = false;
  #session: pg.Client | null = null;
  #reopening: Promise<void> | null = null;

  constructor(options: WakeLoopOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#session = await this.#listen();
    for (let loop = 0; loop < (this.#options.loops ?? 2); loop++) this.#loops.push(this.#loop());
  }

  /** Lets the steps in flight finish, then stops. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const wake of this.#sleepers.splice(0)) wake();
    await Promise.all(this.#loops);
    this.#loops = [];
    await this.#reopening;
    await this.#session?.end().catch(() => {});
    this.#session = null;
  }

  /** A new listening session: listening, and with what `onListening` takes on it. */
  async #listen(): Promise<pg.Client> {
    const session = new pg.Client({ connectionString: this.#options.connectionString });
    session.on('notification', () => this.wakeUp());
    session.on('error', (error) => {
      this.#options.onError?.(error);
      this.#reopen(session);
    });
    session.on('end', () => this.#reopen(session));
    try {
      await session.connect();
      await session.query(`listen ${this.#options.channel}`);
      await this.#options.onListening?.(session);
      return session;
    } catch (error) {
      await session.end().catch(() => {});
      throw error;
    }
  }

  /**
   * A listening session lost (the database restarted, say) is opened again, with backoff, for as long as
   * the loop runs: without it notices stop coming, and what `onListening` held (a refetcher's lock) is
   * gone. Once it is back, a loop looks at once, for the work noticed meanwhile.
   */
  #reopen(lost: pg.Client): void {
    if (!this.#running || this.#session !== lost) return;
    this.#session = null;
    this.#reopening = (async () => {
      for (let attempt = 0; this.#running && !this.#session; attempt++) {
        await delay(Math.min(100 * 2 ** attempt, 5_000));
        if (!this.#running) break;
        try {
          this.#session = await this.#listen();
          this.wakeUp();
        } catch (error) {
          this.#options.onError?.(error);
        }
      }
    })();
  }

  /** Wakes one sleeping loop; with none asleep, the next one about to sleep looks again instead. */
  wakeUp(): void {
    const wake = this.#sleepers.shift();
    if (wake) wake();
    else this.#noticed = true;
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const { found, behind } = await this.#step();
      if (found > 0 && this.#missedBeside) {
        this.#missedBeside = false;
        this.wakeUp();
      }
      if (behind || !this.#running) continue;
      // A step that kept up with a trickle lets more of it gather; otherwise nothing is waiting, and the
      // loop sleeps until it is told of more (or told during the step: then it looks again at once).
      if (found > 0 && this.#options.gatherMs) await delay(this.#options.gatherMs);
      else await this.#sleep(this.#options.idleMs ?? 500);
    }
  }

  async #step(): Promise<StepOutcome> {
    this.#stepping++;
    let outcome: StepOutcome = { found: 0, behind: false };
    try {
      outcome = await this.#options.step();
    } catch (error) {
      this.#options.onError?.(error);
    }
    this.#stepping--;
    if (outcome.found === 0 && this.#stepping > 0) this.#missedBeside = true;
    return outcome;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#noticed) {
      this.#noticed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers = this.#sleepers.filter((sleeper) => sleeper !== wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.push(wake);
    });
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The connection string a pool was built from: loops open their listening session with it. */
export function connectionStringOf(pool: pg.Pool): string {
  const options = (pool as unknown as { options: { connectionString?: string } }).options;
  if (!options.connectionString) throw new Error('the worker needs a pool built from a connection string');
  return options.connectionString;
}
