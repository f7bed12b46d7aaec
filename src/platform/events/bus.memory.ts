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
 * The embedded mode's bus: one in-process log for every event (as the Redis adapter's one
 * stream: each aggregate's events stay in outbox order whatever their types), with the
 * consumer-group semantics of Redis Streams that the contract suite pins (at-least-once,
 * take-over of stale entries, dead letters). A group skips the types it does not consume. It
 * serves one process only (docs/architecture.md §2). The log keeps at most `maxLen` entries (the
 * Redis adapter's MAXLEN), less what every group has already acknowledged.
 */
export class MemoryEventBus implements EventBus {
  readonly #log: { base: number; entries: Entry[] } = { base: 0, entries: [] };
  readonly #groups = new Map<string, GroupLog>();
  readonly #dead = new Map<string, DeadLetter[]>();

  constructor(
    private readonly clock: Clock,
    private readonly maxLen = 100_000,
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    const log = this.#log;
    for (const event of events) log.entries.push({ seq: log.base + log.entries.length, event: structuredClone(event) });
    this.#trim();
  }

  async subscribe(group: string, _types: readonly string[]): Promise<void> {
    // A new group reads from the start of what the log still holds, as XGROUP CREATE … 0 does.
    if (!this.#groups.has(group)) this.#groups.set(group, { cursor: this.#log.base, pending: new Map() });
  }

  async read(group: string, consumer: string, types: readonly string[], count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    const g = this.#group(group);
    const log = this.#log;
    g.cursor = Math.max(g.cursor, log.base);
    while (out.length < count && g.cursor < log.base + log.entries.length) {
      const entry = log.entries[g.cursor - log.base]!;
      g.cursor++;
      // Another type's entry is the group's business only to step over (Redis: acknowledged at once).
      if (types.includes(entry.event.type)) out.push(this.#deliver(g, { entry, consumer, deliveredAt: 0, deliveries: 0 }, consumer));
    }
    this.#trim();
    return out;
  }

  async claimStale(group: string, consumer: string, types: readonly string[], minIdleMs: number, count: number): Promise<Delivery[]> {
    const now = this.clock.now().getTime();
    const out: Delivery[] = [];
    const g = this.#group(group);
    for (const p of [...g.pending.values()].sort((a, b) => a.entry.seq - b.entry.seq)) {
      if (out.length >= count) return out;
      if (types.includes(p.entry.event.type) && now - p.deliveredAt >= minIdleMs) out.push(this.#deliver(g, p, consumer));
    }
    return out;
  }

  async ack(group: string, deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) this.#groups.get(group)?.pending.delete(Number(d.ref));
    this.#trim();
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

  #group(group: string): GroupLog {
    const g = this.#groups.get(group);
    if (!g) throw new Error(`NOGROUP: no group ${group}; subscribe first`);
    return g;
  }

  /** Drops entries every group has acknowledged, and beyond `maxLen` the oldest (as MAXLEN does). */
  #trim(): void {
    const log = this.#log;
    const groups = [...this.#groups.values()];
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
