/**
 * What tests may reach inside the payments module, and nothing else may: the repository (to
 * leave a payment row as a process that crashed mid-confirm would, and to read payment rows).
 */
import type { PaymentsRepository } from './payments.repository.js';

export const internals = Symbol('payments internals');

interface WithInternals {
  [internals]: { repo: PaymentsRepository };
}

export const paymentsRepository = (module: WithInternals): PaymentsRepository => module[internals].repo;

/** Payments' part of the paying statement, for the snapshot of the statement's text. */
export { paymentDonePart } from './payments.repository.js';
