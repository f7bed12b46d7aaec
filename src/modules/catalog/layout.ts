import type { FieldError } from '../../platform/http/errors.js';
import type { VenueLayout } from './catalog.tables.js';

export interface SeatSpec {
  section: string;
  rowLabel: string;
  number: number;
  label: string;
  ordinal: number;
}

/** Seat labels read `<section>-<row>-<number>` (docs/api.md); a seat's position in the layout is its ordinal. */
export const seatLabel = (section: string, row: string, n: number) => `${section}-${row}-${n}`;

export function countSeats(layout: VenueLayout): number {
  return layout.sections.reduce((sum, s) => sum + s.rows.reduce((r, row) => r + row.seats, 0), 0);
}

/**
 * What a schema cannot say about a layout: section names unique in the venue, row labels
 * unique in their section (so every seat label is unique), and the venue within its size cap.
 */
export function layoutErrors(layout: VenueLayout, maxSeats: number): FieldError[] {
  const errors: FieldError[] = [];
  const sections = new Set<string>();
  layout.sections.forEach((section, i) => {
    if (sections.has(section.name)) errors.push({ path: `/body/sections/${i}/name`, message: `duplicate section "${section.name}"` });
    sections.add(section.name);
    const rows = new Set<string>();
    section.rows.forEach((row, j) => {
      if (rows.has(row.label)) errors.push({ path: `/body/sections/${i}/rows/${j}/label`, message: `duplicate row "${row.label}"` });
      rows.add(row.label);
    });
  });
  const total = countSeats(layout);
  if (total > maxSeats) errors.push({ path: '/body/sections', message: `a venue has at most ${maxSeats} seats (got ${total})` });
  return errors;
}

/** Every seat of a layout, in layout order, numbered from 1 within its row. */
export function* expandSeats(layout: VenueLayout): Generator<SeatSpec> {
  let ordinal = 0;
  for (const section of layout.sections) {
    for (const row of section.rows) {
      for (let n = 1; n <= row.seats; n++) {
        yield { section: section.name, rowLabel: row.label, number: n, label: seatLabel(section.name, row.label, n), ordinal: ordinal++ };
      }
    }
  }
}
