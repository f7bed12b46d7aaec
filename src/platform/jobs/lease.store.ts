/**
 * Leader election for periodic jobs: whoever holds a job's lease runs it. Every acquisition
 * returns a fencing token that only grows, so work stamped with an old token can be told
 * apart from the current leader's after a pause or a partition.
 */
export interface LeaseStore {
  /** Takes the lease if free (or already ours) for `ttlMs`; the fencing token, or null if another holds it. */
  acquire(name: string, owner: string, ttlMs: number): Promise<number | null>;
  /** Extends a lease we hold; false if it was lost (expired and taken by another). */
  renew(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}
