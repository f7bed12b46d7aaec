/**
 * What tests and the bench may reach inside the booking module, and nothing else may: the
 * repository (to race the placing statement straight at the database, to write tickets) and the
 * hold store (to make the hot state forget what PostgreSQL keeps).
 */
import type { OrdersRepository } from './orders.repository.js';
import type { SeatHoldStore } from './seat-holds.store.js';

export const internals = Symbol('booking internals');

interface WithInternals {
  [internals]: { repo: OrdersRepository; store: SeatHoldStore };
}

export const ordersRepository = (module: WithInternals): OrdersRepository => module[internals].repo;
export const seatHoldStore = (module: WithInternals): SeatHoldStore => module[internals].store;

/** The paying statement's text, for the snapshot of it with payments' part (src/modules/payments). */
export { payOrderStatement } from './orders.repository.js';
