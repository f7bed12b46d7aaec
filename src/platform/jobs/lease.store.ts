/**
 * Leader election for periodic jobs: whoever holds a job's lease runs it. Every acquisition
 * returns a fencing token that only grows, so work stamped with an old token can be told
 * apart from the current leader's after a pause or a partition.
 */
export interface LeaseStore {
  /**
   * Takes the lease if free, or extends it if already ours, for `ttlMs`: the fencing token, or
   * null if another holds it. The job runner calls it at every run, which is also the renewal.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<number | null>;
  release(name: string, owner: string): Promise<void>;
}
