/**
 * What tests may reach inside the settlement module, and nothing else may: its repository (to
 * read the ledger and runs as they are).
 */
import type { SettlementRepository } from './settlement.repository.js';

export const internals = Symbol('settlement internals');

interface WithInternals {
  [internals]: { repo: SettlementRepository };
}

export const settlementRepository = (module: WithInternals): SettlementRepository => module[internals].repo;
