import { defineError } from '../../platform/http/errors.js';

export const SettlementErrors = {
  /** `periodEnd` is still in the future: entries may still occur in it. */
  PERIOD_NOT_CLOSED: defineError('PERIOD_NOT_CLOSED', 400, 'The period has not closed yet'),
  /** Another settled period overlaps this one (the same period again is not an error: it answers its settlements). */
  PERIOD_OVERLAPS: defineError<{ periodStart: string; periodEnd: string }>('PERIOD_OVERLAPS', 409, 'The period overlaps a settled period'),
} as const;
