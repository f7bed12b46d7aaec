import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LeaseStore } from './lease.store.js';

export interface PeriodicJob {
  readonly name: string;
  readonly intervalMs: number;
  /** One run. `fence` is the lease's fencing token for this leadership term. */
  run(fence: number): Promise<void>;
}

export interface JobRunnerOptions {
  leases: LeaseStore;
  leaseMs: number;
  logger: Logger;
  /** Reports a failed run (metrics); the runner itself only logs. */
  onError?: (job: string, err: unknown) => void;
}

/**
 * Runs periodic jobs on whichever worker holds each job's lease. Every tick a worker tries to
 * take (or keep) the lease; only the holder runs the job. A crashed leader's lease expires
 * after `leaseMs` and another worker takes over with a higher fencing token.
 */
export class JobRunner {
  readonly #owner = `${process.pid}-${randomUUID()}`;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(private readonly opts: JobRunnerOptions) {}

  start(jobs: readonly PeriodicJob[]): void {
    for (const job of jobs) this.#schedule(job, 0);
  }

  /** Stops scheduling, waits for runs under way, and hands the leases back. */
  async stop(jobs: readonly PeriodicJob[]): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
    await Promise.allSettled(jobs.map((j) => this.opts.leases.release(`job:${j.name}`, this.#owner)));
  }

  /** One tick of one job: take the lease, run if leader. Exposed for tests. */
  async tick(job: PeriodicJob): Promise<boolean> {
    const fence = await this.opts.leases.acquire(`job:${job.name}`, this.#owner, this.opts.leaseMs);
    if (fence === null) return false;
    await job.run(fence);
    return true;
  }

  #schedule(job: PeriodicJob, delay: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const run = this.tick(job)
        .then(() => undefined)
        .catch((err: unknown) => {
          this.opts.logger.error({ err, job: job.name }, 'job run failed');
          this.opts.onError?.(job.name, err);
        })
        .finally(() => {
          this.#running.delete(run);
          this.#schedule(job, job.intervalMs);
        });
      this.#running.add(run);
    }, delay);
    this.#timers.add(timer);
  }
}
