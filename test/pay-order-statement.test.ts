import { describe, expect, it } from 'vitest';
import { payOrderStatement } from '../src/modules/booking/testing.js';
import { saleFactsPart, seatSalePart } from '../src/modules/catalog/index.js';
import { couponUsePart, discountFundingPart } from '../src/modules/coupons/index.js';
import { paymentDonePart } from '../src/modules/payments/testing.js';

describe('the paying statement, with payments’ part in it', () => {
  const { text } = payOrderStatement(
    { seats: seatSalePart, couponsUsed: couponUsePart },
    paymentDonePart({ saleFacts: saleFactsPart, discountFunding: discountFundingPart }),
  );

  it('is the committed SQL text (a change shows in review as a diff of pay-order.sql)', async () => {
    await expect(`${text}\n`).toMatchFileSnapshot('../src/modules/booking/__snapshots__/pay-order.sql');
  });

  it('numbers its parameters 1..n with no gap, each with a type', () => {
    const used = new Set([...text.matchAll(/\$(\d+)::[a-z]+(\[\])?/g)].map((m) => Number(m[1])));
    expect([...used].sort((a, b) => a - b)).toEqual(Array.from({ length: used.size }, (_, i) => i + 1));
    expect(text).not.toMatch(/\$\d+(?!\d|::)/);
  });

  it('refuses a part whose parameter takes one of booking’s names', () => {
    expect(() =>
      payOrderStatement(
        { seats: seatSalePart, couponsUsed: couponUsePart },
        { name: 'clash', types: { orderId: 'uuid' }, part: () => ({ lock: 'select 1', writes: () => [] }) },
      ),
    ).toThrow(/orderId is booking's own/);
  });
});
