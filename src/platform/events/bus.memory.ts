import type { Clock } from '../clock.js';
import type { DeadLetter, Delivery, EventBus } from './bus.js';
import type { EventEnvelope } from './envelope.js';

interface Entry {
  seq: number;
  event: EventEnvelope;
}

interface Pending {
  entry: Entry;
  consumer: string;
  deliveredAt: number;
  deliveries: number;
}

interface GroupLog {
  /** Seq of the next entry to hand out. */
  cursor: number;
  readonly pending: Map<number, Pending>;
}

/**
 * The embedded mode's bus: one in-process log per event type, with the consumer-group semantics
 * of Redis Streams that the contract suite pins (at-least-once, take-over of stale entries,
 * dead letters). It serves one process only (docs/architecture.md §2). A log keeps at most
 * `maxLen` entries (the Redis adapter's MAXLEN), less what every group has already acknowledged.
 */
export class MemoryEventBus implements EventBus {
  readonly #logs = new Map<string, { base: number; entries: Entry[] }>();
  readonly #groups = new Map<string, Map<string, GroupLog>>();
  readonly #dead = new Map<string, DeadLetter[]>();

  constructor(
    private readonly clock: Clock,
    private readonly maxLen = 100_000,
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    for (const event of events) {
      const log = this.#log(event.type);
      log.entries.push({ seq: log.base + log.entries.length, event: structuredClone(event) });
      this.#trim(event.type);
    }
  }

  async subscribe(group: string, types: readonly string[]): Promise<void> {
    const logs = this.#groups.get(group) ?? new Map<string, GroupLog>();
    this.#groups.set(group, logs);
    // A new group reads from the start of what the log still holds, as XGROUP CREATE … 0 does.
    for (const type of types) if (!logs.has(type)) logs.set(type, { cursor: this.#log(type).base, pending: new Map() });
  }

  async read(group: string, consumer: string, types: readonly string[], count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const type of types) {
      const g = this.#group(group, type);
      const log = this.#log(type);
      g.cursor = Math.max(g.cursor, log.base);
      while (out.length < count && g.cursor < log.base + log.entries.length) {
        const entry = log.entries[g.cursor - log.base]!;
        g.cursor++;
        out.push(this.#deliver(g, { entry, consumer, deliveredAt: 0, deliveries: 0 }, consumer));
      }
    }
    return out;
  }

  async claimStale(group: string, consumer: string, types: readonly string[], minIdleMs: number, count: number): Promise<Delivery[]> {
    const now = this.clock.now().getTime();
    const out: Delivery[] = [];
    for (const type of types) {
      const g = this.#group(group, type);
      for (const p of [...g.pending.values()].sort((a, b) => a.entry.seq - b.entry.seq)) {
        if (out.length >= count) return out;
        if (now - p.deliveredAt >= minIdleMs) out.push(this.#deliver(g, p, consumer));
      }
    }
    return out;
  }

  async ack(group: string, deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) this.#groups.get(group)?.get(d.event.type)?.pending.delete(Number(d.ref));
    for (const type of new Set(deliveries.map((d) => d.event.type))) this.#trim(type);
  }

  async deadLetter(group: string, delivery: Delivery, reason: string): Promise<void> {
    const dead = this.#dead.get(group) ?? [];
    this.#dead.set(group, dead);
    dead.push({ event: structuredClone(delivery.event), reason, deliveries: delivery.deliveries });
    await this.ack(group, [delivery]);
  }

  async deadLetters(group: string, types: readonly string[]): Promise<DeadLetter[]> {
    return (this.#dead.get(group) ?? []).filter((d) => types.includes(d.event.type)).map((d) => structuredClone(d));
  }

  #deliver(g: GroupLog, p: Pending, consumer: string): Delivery {
    p.consumer = consumer;
    p.deliveredAt = this.clock.now().getTime();
    p.deliveries += 1;
    g.pending.set(p.entry.seq, p);
    // A copy: a handler that mutates its event must not change what a redelivery carries.
    return { ref: String(p.entry.seq), event: structuredClone(p.entry.event), deliveries: p.deliveries };
  }

  #log(type: string) {
    let log = this.#logs.get(type);
    if (!log) this.#logs.set(type, (log = { base: 0, entries: [] }));
    return log;
  }

  #group(group: string, type: string): GroupLog {
    const g = this.#groups.get(group)?.get(type);
    if (!g) throw new Error(`NOGROUP: no group ${group} on ${type}; subscribe first`);
    return g;
  }

  /** Drops entries every group has acknowledged, and beyond `maxLen` the oldest (as MAXLEN does). */
  #trim(type: string): void {
    const log = this.#log(type);
    const groups = [...this.#groups.values()].map((g) => g.get(type)).filter((g): g is GroupLog => g !== undefined);
    let keepFrom = log.base + Math.max(0, log.entries.length - this.maxLen);
    if (groups.length) {
      const done = Math.min(...groups.map((g) => Math.min(g.cursor, ...[...g.pending.keys()])));
      keepFrom = Math.max(keepFrom, done);
    }
    if (keepFrom <= log.base) return;
    log.entries.splice(0, keepFrom - log.base);
    log.base = keepFrom;
  }
}
