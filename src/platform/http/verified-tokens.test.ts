import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-tokens.js';

describe('VerifiedTokenCache', () => {
  it('returns a token until its expiry, never after', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set('t', 'alice', 1000);
    expect(cache.get('t', 999)).toBe('alice');
    expect(cache.get('t', 1000)).toBeUndefined();
    expect(cache.get('other', 0)).toBeUndefined();
  });

  it('stays within its bound and keeps the recently used', () => {
    const cache = new VerifiedTokenCache<number>(4); // two generations of two
    for (let i = 0; i < 100; i++) cache.set(`t${i}`, i, 10_000);
    expect(cache.get('t99', 0)).toBe(99);
    expect(cache.get('t98', 0)).toBe(98);
    expect(cache.get('t0', 0)).toBeUndefined();
    cache.set('hot', 1, 10_000);
    for (let i = 0; i < 3; i++) {
      expect(cache.get('hot', 0)).toBe(1); // used: copied forward, so it survives rotations
      cache.set(`x${i}`, i, 10_000);
    }
    expect(cache.get('hot', 0)).toBe(1);
  });
});
