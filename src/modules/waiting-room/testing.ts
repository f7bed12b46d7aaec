/**
 * What tests and the bench may reach inside the waiting-room module, and nothing else may: the
 * store behind the service (the bench's floor server calls its one script per request directly).
 */
import type { WaitingRoomStore } from './waiting-room.store.js';

export const internals = Symbol('waiting-room internals');

export const waitingRoomStore = (module: { [internals]: { store: WaitingRoomStore } }): WaitingRoomStore => module[internals].store;
