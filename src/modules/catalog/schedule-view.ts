import type { ScheduleRow } from './catalog.repository.js';

export interface WaitingRoomSettings {
  enabled: boolean;
  maxActive: number;
  admitPerTick: number;
}

/** A showtime as the API and the other modules see it. */
export interface ScheduleView {
  id: string;
  performanceId: string;
  startsAt: string;
  saleOpensAt: string;
  saleClosesAt: string;
  waitingRoom: WaitingRoomSettings;
  seatCount: number;
}

/** A showtime on the sale side: with its performance's seller and title (order names, settlement). */
export type SaleSchedule = ScheduleView & { sellerId: string; title: string };

/** The defaults a showtime's waiting room takes when its own settings do not say. */
export interface WaitingRoomDefaults {
  maxActive: number;
  admitPerTick: number;
}

export function toScheduleView(row: ScheduleRow, defaults: WaitingRoomDefaults): ScheduleView {
  return {
    id: row.id,
    performanceId: row.performanceId,
    startsAt: row.startsAt.toISOString(),
    saleOpensAt: row.saleOpensAt.toISOString(),
    saleClosesAt: row.saleClosesAt.toISOString(),
    waitingRoom: {
      enabled: row.waitingRoomEnabled,
      maxActive: row.maxActive ?? defaults.maxActive,
      admitPerTick: row.admitPerTick ?? defaults.admitPerTick,
    },
    seatCount: row.seatCount,
  };
}
