/**
 * A clock for pacing tests with one timer at a time, whose time the test moves (a send may
 * move it too, as the real clock moves while frames go out); FakeClock stands still inside
 * a callback, which would hide what a moving clock shows.
 */
export class MovingClock {
  t = 0;
  private timer: { at: number; fn: () => void } | undefined;

  readonly now = (): number => this.t;
  readonly monotonic = (): number => this.t;
  readonly setTimeout = (fn: () => void, ms: number): { cancel: () => void } => {
    const me = { at: this.t + ms, fn };
    this.timer = me;
    return { cancel: () => void (this.timer === me ? (this.timer = undefined) : undefined) };
  };

  /** Runs the timer until none is set again; each fires at `wake(its due time, the time now)`. */
  drain(wake: (due: number, now: number) => number): void {
    while (this.timer) {
      const due = this.timer;
      this.timer = undefined;
      this.t = wake(due.at, this.t);
      due.fn();
    }
  }
}
