/**
 * Remembers tokens already verified, until they expire: a buyer polling the waiting room every
 * second presents the same bearer token each time, and re-running the HMAC check (an async
 * WebCrypto job in jose) for identical bytes is most of an authenticated request's CPU. Only a
 * byte-identical token hits, and never past its own `exp`, so the cache cannot widen what is
 * accepted. Bounded: the oldest entries go first.
 */
export class VerifiedTokenCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly max: number) {}

  get(token: string, now: number): V | undefined {
    const hit = this.#entries.get(token);
    if (!hit) return undefined;
    if (hit.expiresAt <= now) {
      this.#entries.delete(token);
      return undefined;
    }
    return hit.value;
  }

  set(token: string, value: V, expiresAt: number): void {
    if (this.max <= 0) return;
    if (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, { value, expiresAt });
  }
}
