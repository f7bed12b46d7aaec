/** Pure pricing: no I/O, no clock. Money is integer KRW throughout. */

export interface PricedSeat {
  seatId: string;
  label: string;
  grade: string;
  price: number;
}

export interface PricedItem extends PricedSeat {
  discount: number;
}

export interface Priced {
  items: PricedItem[];
  subtotal: number;
  discount: number;
  amount: number;
}

/**
 * Prices seats with per-seat discounts (coupon discounts arrive through `discountOf`). A
 * discount never exceeds the price it applies to, so `amount` is never negative.
 */
export function priceSeats(seats: readonly PricedSeat[], discountOf: (seatId: string) => number = () => 0): Priced {
  // Each line is built field by field: a spread of the caller's seat (a catalog seat carries
  // more fields) took V8's slow path on every order.
  const items = seats.map((s) => ({
    seatId: s.seatId,
    label: s.label,
    grade: s.grade,
    price: s.price,
    discount: Math.max(0, Math.min(s.price, Math.floor(discountOf(s.seatId)))),
  }));
  const subtotal = items.reduce((sum, i) => sum + i.price, 0);
  const discount = items.reduce((sum, i) => sum + i.discount, 0);
  return { items, subtotal, discount, amount: subtotal - discount };
}

/** What the PG shows the buyer: the performance and the seats, within Toss's 100 characters. */
export function orderName(title: string, labels: readonly string[]): string {
  const seats = labels.length === 1 ? labels[0]! : `${labels[0]} +${labels.length - 1}`;
  const name = `${title} (${seats})`;
  return name.length <= 100 ? name : `${title.slice(0, 100 - seats.length - 4)}… (${seats})`;
}
