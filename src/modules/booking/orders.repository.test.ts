import { describe, expect, it } from 'vitest';
import { seatReservationPart } from '../catalog/index.js';
import { couponReservationPart } from '../coupons/index.js';
import { placeOrderStatement } from './orders.repository.js';

describe('the order placing statement', () => {
  const text = placeOrderStatement({ seats: seatReservationPart, coupons: couponReservationPart });

  it('is the committed SQL text (a change shows in review as a diff of place-order.sql)', async () => {
    await expect(`${text}\n`).toMatchFileSnapshot('./__snapshots__/place-order.sql');
  });

  it('numbers its parameters 1..n with no gap, each with a type', () => {
    const used = new Set([...text.matchAll(/\$(\d+)::[a-z]+(\[\])?/g)].map((m) => Number(m[1])));
    expect([...used].sort((a, b) => a - b)).toEqual(Array.from({ length: used.size }, (_, i) => i + 1));
    expect(text).not.toMatch(/\$\d+(?!\d|::)/);
  });
});
