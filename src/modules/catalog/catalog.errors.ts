import { CommonErrors, defineError, type FieldError } from '../../platform/http/errors.js';

export const CatalogErrors = {
  HAS_SALES: defineError('HAS_SALES', 409, 'Seats of this showtime have been sold'),
  /** The showtime's sale window: used by every module that sells (waiting room, holds, orders). */
  SALE_NOT_OPEN: defineError('SALE_NOT_OPEN', 409, 'The sale has not opened yet'),
  SALE_CLOSED: defineError('SALE_CLOSED', 409, 'The sale has closed'),
  /** A seller's catalog quota (venues, seats, performances, showtimes) would be exceeded. */
  QUOTA_EXCEEDED: defineError<{ quota: string; limit: number }>('QUOTA_EXCEEDED', 409, 'Catalog quota exceeded'),
} as const;

/** A 400 naming the fields at fault: for rules a schema cannot express (uniqueness, references). */
export function invalid(errors: FieldError[]) {
  return CommonErrors.VALIDATION_FAILED('The request does not satisfy the catalog rules', { errors });
}

export const notFound = (what: 'venue' | 'performance' | 'schedule') => CommonErrors.NOT_FOUND(`No such ${what}`);
