/** A response kept for replay under its Idempotency-Key. */
export interface StoredResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

export type BeginResult =
  | { kind: 'started' }
  | { kind: 'in-flight'; fingerprint: string }
  | { kind: 'completed'; fingerprint: string; response: StoredResponse };

/**
 * Port of the idempotency plugin. `begin` is atomic: of several concurrent requests with one
 * key, exactly one gets `started`; the others see `in-flight` (or `completed` once it is done).
 */
export interface IdempotencyStore {
  begin(key: string, fingerprint: string, owner: string, lockTtlMs: number): Promise<BeginResult>;
  /** Stores the response for replay — only if `owner` still holds the key (or nobody does). */
  complete(key: string, owner: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Frees the key after a failure the client may retry (5xx); only the owner can. */
  abandon(key: string, owner: string): Promise<void>;
}

/** What both adapters keep under a key. */
export interface IdempotencyRecord {
  state: 'in-flight' | 'completed';
  fingerprint: string;
  owner: string;
  response?: StoredResponse;
}
