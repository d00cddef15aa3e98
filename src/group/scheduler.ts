// Time for the coordinator: the real clock and timers, or a fake one tests advance by hand.

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  now(): number;
  /** Runs `task` after `delayMs`; the handle cancels it. */
  schedule(delayMs: number, task: () => void): TimerHandle;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, task) {
    const timer = setTimeout(task, Math.max(0, delayMs));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** A scheduler whose clock only moves when advance() is called; due tasks run in deadline order. */
export class ManualScheduler implements Scheduler {
  #now: number;
  #nextId = 0;
  readonly #tasks = new Map<number, { at: number; task: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, task: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#tasks.set(id, { at: this.#now + Math.max(0, delayMs), task });
    return { cancel: () => this.#tasks.delete(id) };
  }

  /** Moves the clock forward, running every task that falls due on the way (including ones they schedule). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, entry] of this.#tasks) {
        if (entry.at <= target && entry.at < nextAt) {
          nextAt = entry.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const entry = this.#tasks.get(nextId)!;
      this.#tasks.delete(nextId);
      this.#now = Math.max(this.#now, entry.at);
      entry.task();
    }
    this.#now = target;
  }

  get pending(): number {
    return this.#tasks.size;
  }
}
