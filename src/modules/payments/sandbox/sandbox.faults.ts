/**
 * Fault injection for the sandbox PG: added latency, Toss errors answered without doing the
 * work, and "commit, then lose the answer" (the PG charged, the caller sees a reset socket, a
 * hung request or a 5xx). Faults come from a scripted queue (tests), from per-request headers,
 * or at configured rates drawn from an injected random source — seeded, so a run repeats.
 */
import type { TossErrorCode } from './toss.errors.js';

/** How an answer is lost after the work was done and recorded. */
export type DeliveryFault = 'drop' | 'timeout' | '5xx';
export const DELIVERY_FAULTS: readonly DeliveryFault[] = ['drop', 'timeout', '5xx'];

/** Which Toss API calls a scripted step applies to. */
export type TossOperation = 'confirm' | 'cancel' | 'lookup';

export interface FaultStep {
  /** The kind of call this step waits for; absent = the next Toss API call, whatever it is. */
  on?: TossOperation | undefined;
  latencyMs?: number | undefined;
  /** Answer this documented Toss error without doing the work. */
  code?: TossErrorCode | undefined;
  /** Do the work, then lose the answer. */
  fault?: DeliveryFault | undefined;
}

export interface FaultSettings {
  latencyMs: number;
  /** Share of calls answered with `faultCode` (0–1). */
  faultRate: number;
  faultCode: TossErrorCode;
  /** Share of calls whose answer is dropped after the work (0–1). */
  dropRate: number;
  /** Share of calls whose answer is never sent after the work: the connection is held (0–1). */
  timeoutRate: number;
}

export interface FaultDecision {
  latencyMs: number;
  code: TossErrorCode | null;
  delivery: DeliveryFault | null;
}

export class SandboxFaults {
  readonly #queue: FaultStep[] = [];

  constructor(
    private readonly settings: FaultSettings,
    private readonly random: () => number,
  ) {}

  enqueue(steps: readonly FaultStep[]): number {
    this.#queue.push(...steps.map((s) => ({ ...s })));
    return this.#queue.length;
  }

  clear(): number {
    return this.#queue.splice(0).length;
  }

  get pending(): number {
    return this.#queue.length;
  }

  /**
   * The first queued step for this kind of call wins outright; otherwise the request's own
   * headers, then the configured latency and rates.
   */
  decide(operation: TossOperation, requested: { latencyMs?: number | undefined; fault?: DeliveryFault | undefined }): FaultDecision {
    const i = this.#queue.findIndex((s) => s.on === undefined || s.on === operation);
    if (i >= 0) {
      const [step] = this.#queue.splice(i, 1);
      return { latencyMs: step!.latencyMs ?? 0, code: step!.code ?? null, delivery: step!.fault ?? null };
    }
    const latencyMs = requested.latencyMs ?? this.settings.latencyMs;
    if (requested.fault) return { latencyMs, code: null, delivery: requested.fault };
    if (this.settings.faultRate > 0 && this.random() < this.settings.faultRate) return { latencyMs, code: this.settings.faultCode, delivery: null };
    if (this.settings.dropRate > 0 && this.random() < this.settings.dropRate) return { latencyMs, code: null, delivery: 'drop' };
    if (this.settings.timeoutRate > 0 && this.random() < this.settings.timeoutRate) return { latencyMs, code: null, delivery: 'timeout' };
    return { latencyMs, code: null, delivery: null };
  }
}

/** mulberry32: a small, fast, seedable source in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
