import { v7 } from 'uuid';

/** Every id is a UUIDv7: time-ordered, so primary-key inserts stay append-mostly and cursors sort by creation. */
export const newId = (): string => v7();
