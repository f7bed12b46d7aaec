import type { EventHandlerSpec } from '../../platform/events/consumer.js';
import { SETTLED_EVENTS, type SettlementService } from './settlement.service.js';

/**
 * The ledger's feed: `payment.completed` and `refund.completed` through the outbox pipeline, each
 * handled in the transaction that records it in `processed_events` (deduped by event id), and the
 * ledger's `(order, kind)` key makes the same fact under another id a no-op too. Order does not
 * matter: a refund that arrives before its sale is booked, and so is the sale when it comes.
 */
export function settlementLedgerConsumer(service: SettlementService): EventHandlerSpec {
  return {
    name: 'settlement.ledger',
    types: [SETTLED_EVENTS.sale, SETTLED_EVENTS.refund],
    handle: (event, tx) => service.record(event, tx),
  };
}
