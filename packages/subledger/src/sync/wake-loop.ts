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
 */
export class WakeLoop {
  readonly #options: WakeLoopOptions;
  #running = false;
  #loops: Promise<void>[] = [];
  #wake: (() => void) | null = null;
  #session: pg.Client | null = null;

  constructor(options: WakeLoopOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#session = new pg.Client({ connectionString: this.#options.connectionString });
    this.#session.on('error', (error) => this.#options.onError?.(error));
    this.#session.on('notification', () => this.wakeUp());
    await this.#session.connect();
    await this.#session.query(`listen ${this.#options.channel}`);
    await this.#options.onListening?.(this.#session);
    for (let loop = 0; loop < (this.#options.loops ?? 2); loop++) this.#loops.push(this.#loop());
  }

  /** Lets the steps in flight finish, then stops. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wakeUp();
    await Promise.all(this.#loops);
    this.#loops = [];
    await this.#session?.end().catch(() => {});
    this.#session = null;
  }

  wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      let outcome: StepOutcome = { found: 0, behind: false };
      try {
        outcome = await this.#options.step();
      } catch (error) {
        this.#options.onError?.(error);
      }
      const { found, behind } = outcome;
      // A finished step released its keys, which a sibling that found nothing may have been blocked by.
      if (found > 0) this.wakeUp();
      if (behind) continue;
      // Woken from idle (a notification, or a sibling that released keys), a loop looks at once; only
      // a step that kept up with a trickle waits for more of it.
      if (found === 0) {
        if (this.#running) await this.#sleep(this.#options.idleMs ?? 500);
      } else if (this.#running && this.#options.gatherMs) await delay(this.#options.gatherMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const previous = this.#wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        previous?.();
        done();
      };
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
