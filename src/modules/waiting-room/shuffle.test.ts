import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateWait } from './waiting-room.service.js';
import { seedFrom, shuffleWithSeed } from './shuffle.js';

describe('pre-queue shuffle', () => {
  it('is a permutation of its input for any seed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 2147483646 }), (items, seed) => {
        expect([...shuffleWithSeed(items, seed)].sort()).toEqual([...items].sort());
      }),
    );
  });

  it('is reproducible with a fixed seed, and differs between seeds', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    expect(shuffleWithSeed(items, 12345)).toEqual(shuffleWithSeed(items, 12345));
    const distinct = new Set(Array.from({ length: 50 }, (_, i) => shuffleWithSeed(items, 1000 + i * 7919).join(',')));
    expect(distinct.size).toBe(50);
  });

  it('places every element in every position about equally often (chi-square over 1,000 shuffles)', () => {
    const n = 10;
    const runs = 1000;
    const items = Array.from({ length: n }, (_, i) => i);
    // counts[element][position]
    const counts = items.map(() => new Array<number>(n).fill(0));
    for (let r = 0; r < runs; r++) {
      shuffleWithSeed(
        items,
        seedFrom(() => randomInt(0, 2 ** 32) / 2 ** 32),
      ).forEach((element, position) => counts[element]![position]!++);
    }
    const expected = runs / n;
    for (const row of counts) {
      const chi2 = row.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
      // 9 degrees of freedom: P(chi2 > 33.7) < 0.0001 for a uniform shuffle.
      expect(chi2).toBeLessThan(33.7);
    }
  });

  it('does not favour the early entrants with a fixed seed sequence either', () => {
    // With consecutive seeds (the worst case for a weak generator) the first arrival lands in the
    // first half about half of the time.
    const items = Array.from({ length: 100 }, (_, i) => i);
    let firstHalf = 0;
    for (let seed = 1; seed <= 1000; seed++) if (shuffleWithSeed(items, seed).indexOf(0) < 50) firstHalf++;
    expect(firstHalf).toBeGreaterThan(430);
    expect(firstHalf).toBeLessThan(570);
  });
});

describe('estimated wait', () => {
  it('is null before any admission and zero at the front', () => {
    expect(estimateWait(10, { admitted: 0, oldestAt: null }, 0, 1000)).toBeNull();
    expect(estimateWait(0, { admitted: 0, oldestAt: null }, 0, 1000)).toBe(0);
  });

  it('divides the buyers ahead by the admission rate of the last minute', () => {
    // 500 admitted over ticks from t=0 to t=9 s (10 ticks of 1 s): 50 per second.
    expect(estimateWait(1000, { admitted: 500, oldestAt: 0 }, 9_000, 1000)).toBe(20);
  });
});
