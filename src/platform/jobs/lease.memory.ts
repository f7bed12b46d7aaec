import type { Clock } from '../clock.js';
import type { LeaseStore } from './lease.store.js';

/** Single-process adapter: in embedded mode the one process always leads. */
export class MemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, { owner: string; expiresAt: number; token: number }>();
  #fence = 0;
  constructor(private readonly clock: Clock) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const now = this.clock.now().getTime();
    const held = this.#leases.get(name);
    if (held && held.expiresAt > now && held.owner !== owner) return null;
    const token = held && held.owner === owner && held.expiresAt > now ? held.token : ++this.#fence;
    this.#leases.set(name, { owner, expiresAt: now + ttlMs, token });
    return token;
  }

  async release(name: string, owner: string): Promise<void> {
    if (this.#leases.get(name)?.owner === owner) this.#leases.delete(name);
  }
}
