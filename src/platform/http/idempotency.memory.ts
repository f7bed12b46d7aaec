import type { Clock } from '../clock.js';
import type { BeginResult, IdempotencyRecord, IdempotencyStore, StoredResponse } from './idempotency.store.js';

/** Single-process adapter (embedded mode). The map is swept of expired keys as it is used. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();
  constructor(private readonly clock: Clock) {}

  async begin(key: string, fingerprint: string, owner: string, lockTtlMs: number): Promise<BeginResult> {
    const existing = this.#live(key);
    if (!existing) {
      this.#entries.set(key, { record: { state: 'in-flight', fingerprint, owner }, expiresAt: this.#now() + lockTtlMs });
      return { kind: 'started' };
    }
    return toResult(existing);
  }

  async complete(key: string, owner: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void> {
    const existing = this.#live(key);
    if (existing && existing.owner !== owner) return;
    this.#entries.set(key, {
      record: { state: 'completed', fingerprint, owner, response },
      expiresAt: this.#now() + ttlMs,
    });
  }

  async abandon(key: string, owner: string): Promise<void> {
    if (this.#live(key)?.owner === owner) this.#entries.delete(key);
  }

  #now(): number {
    return this.clock.now().getTime();
  }

  #live(key: string): IdempotencyRecord | undefined {
    const now = this.#now();
    if (this.#entries.size > 10_000) {
      for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    }
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.record;
  }
}

export function toResult(record: IdempotencyRecord): BeginResult {
  return record.state === 'completed' && record.response
    ? { kind: 'completed', fingerprint: record.fingerprint, response: record.response }
    : { kind: 'in-flight', fingerprint: record.fingerprint };
}
