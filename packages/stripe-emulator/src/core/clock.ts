/**
 * The emulator's sense of "now", in Unix seconds. Objects on a test clock live at the clock's frozen
 * time; everything else lives at the system time, which tests may move forward (never back) to make
 * wall-clock schedules (dunning retries, hold expiry in the app under test) happen without waiting.
 */
export class SystemClock {
  #offsetSeconds = 0;
  readonly #wallClockMs: () => number;

  constructor(wallClockMs: () => number = Date.now) {
    this.#wallClockMs = wallClockMs;
  }

  nowSeconds(): number {
    return Math.floor(this.#wallClockMs() / 1000) + this.#offsetSeconds;
  }

  nowMs(): number {
    return this.#wallClockMs() + this.#offsetSeconds * 1000;
  }

  advanceBy(seconds: number): void {
    if (seconds < 0) throw new RangeError('the system clock only moves forward');
    this.#offsetSeconds += seconds;
  }
}
