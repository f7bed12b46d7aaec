/**
 * The wire encoding of `GET /v1/schedules/:id/availability` and its stream, and how a client
 * decodes it. Pure and free of server imports, so a web app can import this file alone; the
 * format is specified in docs/api.md ("Live availability") for clients in other languages.
 *
 * Seats are addressed by their `index` in the showtime's layout (`GET .../layout`).
 *
 * - `full` (`encoding: "2bit-v1"`, `full: true`): `data` is base64 (RFC 4648, with padding) of
 *   ceil(n / 4) bytes. Seat i is in byte floor(i / 4), most significant bits first: bits 7–6
 *   hold seat 4k, bits 5–4 seat 4k+1, bits 3–2 seat 4k+2, bits 1–0 seat 4k+3. Unused trailing
 *   bits are 0.
 * - `delta` (`full: false`, with `since`): `data` is base64 of 3-byte big-endian unsigned
 *   integers, one per changed seat, sorted by index: `index * 4 + code` (each seat's last status
 *   at `version`). Applied to a state at any version from `since` to `version`, it gives the
 *   state at `version`; an empty `data` means nothing changed.
 *
 * Codes: 0 AVAILABLE, 1 HELD, 2 SOLD; 3 is reserved (a client should treat it as not available).
 */

export const AVAILABILITY_ENCODING = '2bit-v1' as const;

export const SeatCode = { AVAILABLE: 0, HELD: 1, SOLD: 2 } as const;
export type SeatCodeName = keyof typeof SeatCode;
export const SEAT_CODE_NAMES: readonly (SeatCodeName | 'RESERVED')[] = ['AVAILABLE', 'HELD', 'SOLD', 'RESERVED'];

/** Seats a delta entry can address: 22 bits of index (VENUE_MAX_SEATS is at most 1,000,000). */
export const MAX_SEATS = 2 ** 22;

/** What the availability endpoints answer (the JSON body and each stream event's data). */
export interface AvailabilityMessage {
  scheduleId: string;
  version: number;
  encoding: typeof AVAILABILITY_ENCODING;
  full: boolean;
  data: string;
  /** On a delta: the version it starts from (it applies to a state at any version from `since` to `version`). */
  since?: number;
}

/** Packs one code (0–3) per seat, 2 bits each, most significant bits first. */
export function packStatuses(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 4));
  for (let i = 0; i < codes.length; i++) out[i >> 2]! |= (codes[i]! & 3) << (6 - 2 * (i & 3));
  return out;
}

/** The code of every one of `seats` seats from a packed full state. */
export function unpackStatuses(packed: Uint8Array, seats: number): Uint8Array {
  if (packed.length < Math.ceil(seats / 4)) throw new RangeError(`a full state of ${seats} seats needs ${Math.ceil(seats / 4)} bytes, got ${packed.length}`);
  const out = new Uint8Array(seats);
  for (let i = 0; i < seats; i++) out[i] = (packed[i >> 2]! >> (6 - 2 * (i & 3))) & 3;
  return out;
}

/** Bytes per changed seat in a delta. */
export const DELTA_ENTRY_BYTES = 3;

/** A delta's bytes: `[index, code]` pairs, sorted by index, each as a 3-byte big-endian `index * 4 + code`. */
export function packChanges(changes: readonly (readonly [index: number, code: number])[]): Uint8Array {
  const sorted = [...changes].sort((a, b) => a[0] - b[0]);
  const out = new Uint8Array(sorted.length * DELTA_ENTRY_BYTES);
  sorted.forEach(([index, code], i) => {
    if (!Number.isInteger(index) || index < 0 || index >= MAX_SEATS) throw new RangeError(`seat index out of range: ${index}`);
    const word = index * 4 + (code & 3);
    out[i * 3] = word >>> 16;
    out[i * 3 + 1] = (word >>> 8) & 255;
    out[i * 3 + 2] = word & 255;
  });
  return out;
}

export function unpackChanges(bytes: Uint8Array): [index: number, code: number][] {
  if (bytes.length % DELTA_ENTRY_BYTES) throw new RangeError(`a delta is a multiple of ${DELTA_ENTRY_BYTES} bytes, got ${bytes.length}`);
  const out: [number, number][] = [];
  for (let at = 0; at < bytes.length; at += 3) {
    const word = (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
    out.push([word >>> 2, word & 3]);
  }
  return out;
}

// base64 without Node's Buffer, so the file runs in a browser as is.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}

export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (clean.length % 4 === 1) throw new RangeError('not base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) throw new RangeError(`not base64: ${JSON.stringify(clean[i])}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 255;
    }
  }
  return out;
}

/**
 * A client's copy of a showtime's availability: start it from a full message, then feed it every
 * message (full or delta) in the order received. `codes[i]` is the code of the seat with layout
 * index i.
 */
export class AvailabilityState {
  codes: Uint8Array;
  version: number;

  constructor(
    readonly seats: number,
    first: AvailabilityMessage,
  ) {
    if (!first.full) throw new Error('the first availability message must be a full state');
    this.codes = unpackStatuses(fromBase64(first.data), seats);
    this.version = first.version;
  }

  /**
   * Applies a message. False, changing nothing, for a delta this state cannot take: one older
   * than it, or one that starts after it (changes were missed — fetch the full state again).
   */
  apply(message: AvailabilityMessage): boolean {
    if (message.encoding !== AVAILABILITY_ENCODING) throw new Error(`unknown availability encoding ${String(message.encoding)}`);
    if (message.full) {
      this.codes = unpackStatuses(fromBase64(message.data), this.seats);
      this.version = message.version;
      return true;
    }
    if (message.version < this.version || (message.since ?? this.version) > this.version) return false;
    for (const [index, code] of unpackChanges(fromBase64(message.data))) if (index < this.seats) this.codes[index] = code;
    this.version = message.version;
    return true;
  }

  status(index: number): SeatCodeName | 'RESERVED' {
    return SEAT_CODE_NAMES[this.codes[index]!]!;
  }
}
