/**
 * What the catalog needs from the hold store to show HELD seats: every held seat of a showtime
 * with its holder, in one hot-state round trip. The booking module's hold store provides it;
 * the catalog cannot import booking (booking prices seats through the catalog), so the
 * composition root passes it in.
 */
export interface HeldSeatsReader {
  heldSeats(scheduleId: string): Promise<ReadonlyMap<string, string>>;
}
