import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, boolean } from 'drizzle-orm/pg-core';

/**
 * A venue's layout as the seller described it: the order of sections and rows is kept. A
 * section's optional `origin` places it in the drawing (layout-view.ts#seatPositions).
 */
export interface VenueLayout {
  sections: { name: string; rows: { label: string; seats: number }[]; origin?: { x: number; y: number } }[];
}

export interface Grade {
  name: string;
  price: number;
}

export interface SeatGradeRule {
  grade: string;
  section: string;
  rows?: string[];
}

export const venues = pgTable(
  'venues',
  {
    id: uuid('id').primaryKey(),
    ownerId: uuid('owner_id').notNull(),
    name: text('name').notNull(),
    address: text('address'),
    seatCount: integer('seat_count').notNull(),
    layout: jsonb('layout').$type<VenueLayout>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('venues_owner_idx').on(t.ownerId)],
);

/** Seats of a venue. Venues are immutable once created, so a seat's id and label never change. */
export const seats = pgTable(
  'seats',
  {
    id: uuid('id').primaryKey(),
    venueId: uuid('venue_id')
      .notNull()
      .references(() => venues.id, { onDelete: 'cascade' }),
    section: text('section').notNull(),
    rowLabel: text('row_label').notNull(),
    number: integer('number').notNull(),
    label: text('label').notNull(),
    /** Position in the layout (section, row, number order): the seat map's order. */
    ordinal: integer('ordinal').notNull(),
  },
  (t) => [uniqueIndex('seats_venue_label_uq').on(t.venueId, t.label), uniqueIndex('seats_venue_ordinal_uq').on(t.venueId, t.ordinal)],
);

export const performances = pgTable(
  'performances',
  {
    id: uuid('id').primaryKey(),
    sellerId: uuid('seller_id').notNull(),
    venueId: uuid('venue_id')
      .notNull()
      .references(() => venues.id),
    title: text('title').notNull(),
    description: text('description'),
    runningMinutes: integer('running_minutes').notNull(),
    grades: jsonb('grades').$type<Grade[]>().notNull(),
    seatGrades: jsonb('seat_grades').$type<SeatGradeRule[]>().notNull(),
    defaultGrade: text('default_grade').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [index('performances_seller_idx').on(t.sellerId), index('performances_live_idx').on(t.id).where(sql`deleted_at is null`)],
);

export const schedules = pgTable(
  'schedules',
  {
    id: uuid('id').primaryKey(),
    performanceId: uuid('performance_id')
      .notNull()
      .references(() => performances.id),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    saleOpensAt: timestamp('sale_opens_at', { withTimezone: true }).notNull(),
    saleClosesAt: timestamp('sale_closes_at', { withTimezone: true }).notNull(),
    waitingRoomEnabled: boolean('waiting_room_enabled').notNull(),
    /** Null = the configured default, resolved when read. */
    maxActive: integer('max_active'),
    admitPerTick: integer('admit_per_tick'),
    seatCount: integer('seat_count').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    index('schedules_performance_idx').on(t.performanceId, t.startsAt),
    check('schedules_sale_window_check', sql`${t.saleOpensAt} < ${t.saleClosesAt} and ${t.saleClosesAt} <= ${t.startsAt}`),
  ],
);

/**
 * A showtime's seat inventory: one row per seat with its grade and price fixed at creation.
 * This table is the authority of invariant 1 (docs/architecture.md §1): a seat is RESERVED for one pending
 * order at a time (`seatReservation`) and becomes SOLD only through the conditional update in
 * `catalog.repository.ts#sellSeats`.
 */
export const scheduleSeats = pgTable(
  'schedule_seats',
  {
    scheduleId: uuid('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    seatId: uuid('seat_id')
      .notNull()
      .references(() => seats.id),
    grade: text('grade').notNull(),
    price: integer('price').notNull(),
    status: text('status', { enum: ['AVAILABLE', 'RESERVED', 'SOLD'] })
      .notNull()
      .default('AVAILABLE'),
    /** The order the seat is reserved for (RESERVED) or was sold to (SOLD). */
    orderId: uuid('order_id'),
    /** End of a RESERVED seat's payment window; after it the reservation counts for nothing. */
    reservedUntil: timestamp('reserved_until', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.scheduleId, t.seatId] }),
    check('schedule_seats_status_check', sql`${t.status} in ('AVAILABLE', 'RESERVED', 'SOLD')`),
    check('schedule_seats_order_check', sql`(${t.status} = 'AVAILABLE') = (${t.orderId} is null)`),
    check('schedule_seats_price_check', sql`${t.price} >= 0`),
    // The seat map reads only the seats that are not available; keep that read an index scan.
    index('schedule_seats_taken_idx').on(t.scheduleId, t.seatId).where(sql`status <> 'AVAILABLE'`),
  ],
);
