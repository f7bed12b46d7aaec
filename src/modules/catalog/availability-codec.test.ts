import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AVAILABILITY_ENCODING,
  AvailabilityState,
  fromBase64,
  packChanges,
  packStatuses,
  toBase64,
  unpackChanges,
  unpackStatuses,
  type AvailabilityMessage,
} from './availability-codec.js';
import type { AvailabilitySource, LoadedAvailability, SeatStatus, SeatStatusChange } from './availability-source.js';
import { SeatAvailability } from './seat-availability.js';

const STATUSES: SeatStatus[] = ['AVAILABLE', 'HELD', 'SOLD'];

describe('availability codec', () => {
  it('packs seat i into byte i/4, most significant bits first', () => {
    // seats: SOLD, HELD, AVAILABLE, SOLD | HELD
    expect([...packStatuses([2, 1, 0, 2, 1])]).toEqual([0b10_01_00_10, 0b01_00_00_00]);
    expect(toBase64(packStatuses([2, 1, 0, 2, 1]))).toBe('kkA=');
  });

  it('writes a delta as 3-byte big-endian index * 4 + code, sorted by index', () => {
    const changes: [number, number][] = [
      [300, 2],
      [1, 1],
    ];
    expect([...packChanges(changes)]).toEqual([0, 0, 5, 0, 4, 0xb2]);
    expect([...packChanges([[2 ** 22 - 1, 3]])]).toEqual([255, 255, 255]);
    expect(() => packChanges([[2 ** 22, 0]])).toThrow(RangeError);
  });

  it('round-trips any statuses and any changes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }), (codes) => {
        expect([...unpackStatuses(fromBase64(toBase64(packStatuses(codes))), codes.length)]).toEqual(codes);
      }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2 ** 22 - 1 }), fc.integer({ min: 0, max: 3 })), { selector: (c) => c[0] }), (changes) => {
        expect(unpackChanges(fromBase64(toBase64(packChanges(changes))))).toEqual([...changes].sort((a, b) => a[0] - b[0]));
      }),
    );
  });

  it("writes the same base64 as Node's Buffer, and reads it back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect([...fromBase64(text)]).toEqual([...bytes]);
      }),
    );
  });
});

/**
 * The hot state, reduced to what the snapshots rely on: a version per step of changes, and a
 * log of the last `keep` versions (older `since` gets the whole state).
 */
class ScriptedSource implements AvailabilitySource {
  readonly statuses = new Map<string, SeatStatus>();
  readonly log: SeatStatusChange[] = [];
  version = 5_000;
  constructor(private readonly keep: number) {}

  step(seats: [string, SeatStatus][]): void {
    if (!seats.length) return;
    this.version++;
    for (const [seat, status] of seats) this.statuses.set(seat, status);
    this.log.push({ version: this.version, seats });
    if (this.log.length > this.keep) this.log.shift();
  }

  async availability(_scheduleId: string, since: number | null): Promise<LoadedAvailability> {
    const behind = since === null ? -1 : this.version - since;
    if (behind >= 0 && behind <= this.log.length) return { kind: 'changes', version: this.version, changes: this.log.slice(this.log.length - behind) };
    const ids = (status: SeatStatus) => [...this.statuses].filter(([, s]) => s === status).map(([id]) => id);
    return { kind: 'full', version: this.version, held: ids('HELD'), sold: ids('SOLD') };
  }
}

describe('live availability snapshots', () => {
  const seatIds = (n: number) => Array.from({ length: n }, (_, i) => `seat-${i}`);
  const seatsOf = (ids: string[]) => ({
    seats: ids.map((seatId, i) => ({ seatId, label: seatId, section: 'A', row: '1', number: i + 1, grade: 'R', price: 1000 })),
    indexOf: new Map(ids.map((id, i) => [id, i])),
  });
  const clock = { now: () => new Date(0) };

  it('gives every client, whatever version it has, what takes it to the current state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 })), { maxLength: 6 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 200 }),
        async (n, steps, keep, historySeats) => {
          const ids = seatIds(n);
          const source = new ScriptedSource(keep);
          const availability = new SeatAvailability({
            source,
            seatsOf: async () => seatsOf(ids),
            clock,
            refreshMs: 0,
            historySeats,
          });
          const first = availability.answer(await availability.current('s'), undefined).message;
          // One client per version the service ever answered, each brought forward from there.
          const clients = [new AvailabilityState(n, first)];
          for (const step of steps) {
            source.step(step.map(([i, code]) => [ids[i % n]!, STATUSES[code]!]));
            const snapshot = await availability.current('s');
            const full = availability.answer(snapshot, undefined).message;
            for (const client of clients) {
              const message = availability.answer(snapshot, client.version).message;
              expect(client.apply(message)).toBe(true);
              expect(client.version).toBe(snapshot.version);
              expect([...client.codes]).toEqual([...new AvailabilityState(n, full).codes]);
            }
            clients.push(new AvailabilityState(n, full));
          }
          // And the state is the source's.
          const expected = ids.map((id) => STATUSES.indexOf(source.statuses.get(id) ?? 'AVAILABLE'));
          expect([...clients[0]!.codes]).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses a delta that starts after the state it is given', () => {
    const start: AvailabilityMessage = { scheduleId: 's', version: 10, encoding: AVAILABILITY_ENCODING, full: true, data: toBase64(packStatuses([0, 0])) };
    const state = new AvailabilityState(2, start);
    const gap: AvailabilityMessage = { ...start, full: false, since: 11, version: 12, data: toBase64(packChanges([[0, 2]])) };
    expect(state.apply(gap)).toBe(false);
    expect(state.status(0)).toBe('AVAILABLE');
    expect(state.apply({ ...gap, since: 10 })).toBe(true);
    expect([state.status(0), state.version]).toEqual(['SOLD', 12]);
  });

  it('reads the hot state at most once per interval, however many readers', async () => {
    let now = 0;
    const source = new ScriptedSource(10);
    let reads = 0;
    const counted: AvailabilitySource = {
      availability: (id, since) => {
        reads++;
        return source.availability(id, since);
      },
    };
    const ids = seatIds(4);
    const availability = new SeatAvailability({
      source: counted,
      seatsOf: async () => seatsOf(ids),
      clock: { now: () => new Date(now) },
      refreshMs: 1000,
      historySeats: 100,
    });
    await Promise.all(Array.from({ length: 500 }, () => availability.current('s')));
    expect(reads).toBe(1);
    now = 999;
    await Promise.all(Array.from({ length: 500 }, () => availability.current('s')));
    expect(reads).toBe(1);
    now = 1000;
    await Promise.all(Array.from({ length: 500 }, () => availability.current('s')));
    expect(reads).toBe(2);
  });
});
