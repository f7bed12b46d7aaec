import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, Page } from '../../platform/http/pagination.js';
import { DateTime, Name, StrictObject, Uuid } from '../../platform/http/schemas.js';

// Section names and row labels make up seat labels `<section>-<row>-<number>`, so no dash.
const SectionName = Name(20, { pattern: '^[^-\\s][^-]*$', description: 'No "-": it separates label parts' });
const RowLabel = Name(10, { pattern: '^[^-\\s][^-]*$' });
const GradeName = Name(20);
const Price = Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'KRW' });

export const CreateVenueBody = StrictObject({
  name: Name(200),
  address: Type.Optional(Type.String({ maxLength: 500 })),
  sections: Type.Array(
    StrictObject({
      name: SectionName,
      rows: Type.Array(StrictObject({ label: RowLabel, seats: Type.Integer({ minimum: 1, maximum: 500 }) }), { minItems: 1, maxItems: 500 }),
      origin: Type.Optional(
        StrictObject(
          { x: Type.Integer({ minimum: -100_000, maximum: 100_000 }), y: Type.Integer({ minimum: -100_000, maximum: 100_000 }) },
          {
            description:
              "Where the section's top-left seat is drawn in the layout, in seat pitches (x right, y down). Without it sections stack top to bottom, one empty row apart",
          },
        ),
      ),
    }),
    { minItems: 1, maxItems: 200 },
  ),
});
export type CreateVenueBody = Static<typeof CreateVenueBody>;

export const VenueSummary = Type.Object({
  id: Uuid,
  name: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  seatCount: Type.Integer(),
  sections: Type.Array(Type.Object({ name: Type.String(), rows: Type.Array(Type.Object({ label: Type.String(), seats: Type.Integer() })) })),
});

export const Venue = Type.Object({
  id: Uuid,
  name: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  seatCount: Type.Integer(),
  sections: Type.Array(
    Type.Object({
      name: Type.String(),
      rows: Type.Array(Type.Object({ label: Type.String(), seats: Type.Array(Type.Object({ id: Uuid, number: Type.Integer(), label: Type.String() })) })),
    }),
  ),
});

const GradeSchema = StrictObject({ name: GradeName, price: Price });
const SeatGradeRuleSchema = StrictObject({
  grade: GradeName,
  section: SectionName,
  rows: Type.Optional(Type.Array(RowLabel, { minItems: 1, maxItems: 500 })),
});

export const CreatePerformanceBody = StrictObject({
  title: Name(200),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  venueId: Uuid,
  runningMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  grades: Type.Array(GradeSchema, { minItems: 1, maxItems: 20 }),
  seatGrades: Type.Array(SeatGradeRuleSchema, { maxItems: 500 }),
  defaultGrade: GradeName,
});

export const UpdatePerformanceBody = StrictObject(
  {
    title: Type.Optional(Name(200)),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { minProperties: 1 },
);

export const WaitingRoom = Type.Object({ enabled: Type.Boolean(), maxActive: Type.Integer(), admitPerTick: Type.Integer() });

export const Schedule = Type.Object({
  id: Uuid,
  performanceId: Uuid,
  startsAt: DateTime,
  saleOpensAt: DateTime,
  saleClosesAt: DateTime,
  waitingRoom: WaitingRoom,
  seatCount: Type.Integer(),
});

export const ScheduleWithCounts = Type.Composite([
  Schedule,
  Type.Object({ counts: Type.Object({ available: Type.Integer(), held: Type.Integer(), sold: Type.Integer() }) }),
]);

const GradeOut = Type.Object({ name: Type.String(), price: Type.Integer() });

export const Performance = Type.Object({
  id: Uuid,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  venueId: Uuid,
  sellerId: Uuid,
  runningMinutes: Type.Integer(),
  grades: Type.Array(GradeOut),
  seatGrades: Type.Array(Type.Object({ grade: Type.String(), section: Type.String(), rows: Type.Optional(Type.Array(Type.String())) })),
  defaultGrade: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
});

export const PerformanceDetail = Type.Composite([Performance, Type.Object({ schedules: Type.Array(Schedule) })]);

export const PerformanceListQuery = StrictObject({ q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), ...PageQuery });

export const PerformanceList = Page(
  Type.Object({
    id: Uuid,
    title: Type.String(),
    venueId: Uuid,
    sellerId: Uuid,
    grades: Type.Array(GradeOut),
    nextScheduleAt: Type.Union([DateTime, Type.Null()]),
  }),
);

export const CreateScheduleBody = StrictObject({
  startsAt: DateTime,
  saleOpensAt: DateTime,
  saleClosesAt: Type.Optional(DateTime),
  waitingRoom: Type.Optional(
    StrictObject({
      enabled: Type.Boolean(),
      maxActive: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      admitPerTick: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    }),
  ),
});

export const SeatMap = Type.Object({
  scheduleId: Uuid,
  seats: Type.Array(
    Type.Object({
      seatId: Uuid,
      label: Type.String(),
      section: Type.String(),
      row: Type.String(),
      number: Type.Integer(),
      grade: Type.String(),
      price: Type.Integer(),
      status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
      heldByMe: Type.Optional(Type.Boolean()),
    }),
  ),
});

export const Layout = Type.Object(
  {
    scheduleId: Uuid,
    seats: Type.Array(
      Type.Object({
        index: Type.Integer({ minimum: 0, description: "The seat's place in layout order: how the availability addresses it" }),
        seatId: Uuid,
        label: Type.String(),
        section: Type.String(),
        row: Type.String(),
        number: Type.Integer(),
        grade: Type.String(),
        price: Type.Integer(),
        x: Type.Number({ description: 'Drawing position in seat pitches, rightwards' }),
        y: Type.Number({ description: 'Drawing position in seat pitches, downwards' }),
      }),
    ),
    grades: Type.Array(Type.Object({ name: Type.String(), price: Type.Integer() })),
  },
  {
    description:
      'Immutable once the showtime exists: strong ETag (304 on If-None-Match), gzip or br by Accept-Encoding, Cache-Control public and immutable. Read it once, then follow the availability.',
  },
);

export const Availability = Type.Object(
  {
    scheduleId: Uuid,
    version: Type.Integer({ description: 'Increases with every status change of the showtime (versions of one epoch are consecutive)' }),
    encoding: Type.Literal('2bit-v1'),
    full: Type.Boolean({ description: 'true: data is the whole state; false: only the seats changed since `since`' }),
    since: Type.Optional(Type.Integer({ description: 'On a delta: the version it starts from' })),
    data: Type.String({ description: 'base64; see the project API docs, "Live availability", for the exact bit layout' }),
  },
  { description: 'The status of every seat by layout index (full), or the changes since a version (delta).' },
);

export const AvailabilityQuery = StrictObject({
  since: Type.Optional(
    Type.Integer({ minimum: 0, description: 'A version this client has: answer only the changes after it (the whole state if it is too old)' }),
  ),
});

export const VenueIdParams = StrictObject({ venueId: Uuid });
