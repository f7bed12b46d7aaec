import type { Logger } from 'pino';

/** Longest pause between two passes while every pass fails. */
const MAX_BACKOFF_MS = 5000;

/**
 * A consumer's loop: run `pass` again and again — at once after a pass that handled something,
 * after `idleMs` when it found nothing. While passes fail (the stream or the database is away)
 * the pause doubles up to MAX_BACKOFF_MS, and only the first and every tenth failure is logged,
 * instead of a failed pass every idle interval until the dependency is back.
 */
export class PollingLoop {
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(
    private readonly pass: () => Promise<number>,
    private readonly opts: { idleMs: number; logger: Logger; what: string },
  ) {}

  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = (async () => {
      let failures = 0;
      while (!this.#stopping) {
        let handled = 0;
        try {
          handled = await this.pass();
          failures = 0;
        } catch (err) {
          failures++;
          if (failures === 1 || failures % 10 === 0) this.opts.logger.error({ err, failures }, `${this.opts.what} pass failed`);
        }
        const pause = failures ? Math.min(this.opts.idleMs * 2 ** failures, MAX_BACKOFF_MS) : handled ? 0 : this.opts.idleMs;
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
    })();
  }

  /** Lets the pass under way finish, then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    this.#running = undefined;
  }
}
