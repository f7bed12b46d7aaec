import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Grade, VenueLayout } from './catalog.tables.js';
import type { InventorySeat } from './inventory.repository.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export interface SeatPosition {
  x: number;
  y: number;
}

/**
 * Where each seat is drawn, in layout order (a seat's ordinal), in seat pitches: x grows to the
 * right, y downwards. By default sections are stacked top to bottom, one empty row between
 * them; within a section row k of the section is at y = top + k, and each row is centred on the
 * section's widest row, seat 1 leftmost. A section's `origin` (given when the venue is created)
 * puts its top-left corner there instead; other sections keep their default places.
 */
export function seatPositions(layout: VenueLayout): SeatPosition[] {
  const out: SeatPosition[] = [];
  let top = 0;
  for (const section of layout.sections) {
    const widest = Math.max(...section.rows.map((r) => r.seats));
    const origin = section.origin ?? { x: 0, y: top };
    section.rows.forEach((row, k) => {
      const indent = (widest - row.seats) / 2;
      for (let n = 1; n <= row.seats; n++) out.push({ x: origin.x + indent + n - 1, y: origin.y + k });
    });
    top += section.rows.length + 1;
  }
  return out;
}

/** A response body prebuilt in every encoding it is served in, with its strong validator. */
export interface Precompressed {
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
  /** Hash of the identity bytes; each encoding's ETag adds its own suffix (a strong ETag names one representation). */
  hash: string;
}

export type ContentCoding = 'br' | 'gzip' | 'identity';

export const etagOf = (body: Precompressed, coding: ContentCoding) => `"${body.hash}${coding === 'identity' ? '' : `.${coding === 'br' ? 'br' : 'gz'}`}"`;

/**
 * Compresses once, off the event loop (zlib runs on libuv's threadpool): gzip at its best level
 * and brotli at quality 9 (11 takes minutes on a stadium's layout for a few percent less).
 */
export async function precompress(identity: Buffer): Promise<Precompressed> {
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 9 }),
    brotliAsync(identity, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: 9,
        [constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
      },
    }),
  ]);
  return { identity, gzip: gz, br, hash: createHash('sha256').update(identity).digest('base64url').slice(0, 32) };
}

/** The showtime's layout: what never changes after it is created, so it is built once per process. */
export interface LayoutView {
  scheduleId: string;
  seats: number;
  body: Precompressed;
}

/**
 * The body of `GET /v1/schedules/:id/layout`: every seat in layout order with its `index` (its
 * place in that order, which the availability encoding addresses), what it is, what it costs and
 * where it is drawn, then the grade legend. Written by hand: 50,000 seats through a serializer
 * would cost more than the rest of the build.
 */
export function renderLayout(scheduleId: string, seats: readonly InventorySeat[], positions: readonly SeatPosition[], grades: readonly Grade[]): Buffer {
  if (positions.length !== seats.length) throw new Error(`layout of ${scheduleId}: ${positions.length} positions for ${seats.length} seats`);
  const parts = new Array<string>(seats.length);
  for (let i = 0; i < seats.length; i++) {
    const s = seats[i]!;
    const p = positions[i]!;
    parts[i] =
      `{"index":${i},"seatId":${JSON.stringify(s.seatId)},"label":${JSON.stringify(s.label)},"section":${JSON.stringify(s.section)},` +
      `"row":${JSON.stringify(s.row)},"number":${s.number},"grade":${JSON.stringify(s.grade)},"price":${s.price},"x":${p.x},"y":${p.y}}`;
  }
  const legend = JSON.stringify(grades.map((g) => ({ name: g.name, price: g.price })));
  return Buffer.from(`{"scheduleId":${JSON.stringify(scheduleId)},"seats":[${parts.join(',')}],"grades":${legend}}`);
}

/**
 * The `Accept-Encoding` coding to answer with, of br, gzip and identity: the highest q-value
 * wins, br before gzip on a tie; `*` stands for any coding not named; q=0 refuses one. Identity
 * when nothing else is acceptable (RFC 9110 §12.5.3: identity is acceptable unless refused, and
 * even then a server may send it rather than a 406).
 */
export function negotiateEncoding(header: string | undefined, offered: readonly ('br' | 'gzip')[] = ['br', 'gzip']): ContentCoding {
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    let weight = 1;
    for (const param of params) {
      const [name, value] = param.trim().split('=');
      if (name === 'q') weight = Number(value);
    }
    q.set(token, Number.isFinite(weight) ? weight : 0);
  }
  const star = q.get('*');
  const of = (coding: string) => q.get(coding) ?? star ?? 0;
  const br = offered.includes('br') ? of('br') : 0;
  const gz = offered.includes('gzip') ? Math.max(of('gzip'), q.get('x-gzip') ?? 0) : 0;
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return 'identity';
}

/** Whether an `If-None-Match` header names the body, in any of its encodings (weak comparison, RFC 9110 §13.1.2). */
export function matchesEtag(header: string | undefined, body: Precompressed): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = new Set((['identity', 'gzip', 'br'] as const).map((c) => etagOf(body, c)));
  return header.split(',').some((tag) => ours.has(tag.trim().replace(/^W\//, '')));
}

/**
 * Prebuilt layouts, least recently used first out, bounded by the seats they describe (a
 * 50,000-seat layout is ~10 MB with its compressed copies).
 */
export class LayoutCache {
  readonly #entries = new Map<string, LayoutView>();
  #seats = 0;
  constructor(private readonly maxSeats: number) {}

  get(scheduleId: string): LayoutView | undefined {
    const hit = this.#entries.get(scheduleId);
    if (hit) {
      this.#entries.delete(scheduleId);
      this.#entries.set(scheduleId, hit);
    }
    return hit;
  }

  set(view: LayoutView): void {
    this.delete(view.scheduleId);
    if (view.seats > this.maxSeats) return;
    this.#entries.set(view.scheduleId, view);
    this.#seats += view.seats;
    for (const [id, entry] of this.#entries) {
      if (this.#seats <= this.maxSeats) break;
      this.#entries.delete(id);
      this.#seats -= entry.seats;
    }
  }

  delete(scheduleId: string): void {
    const entry = this.#entries.get(scheduleId);
    if (!entry) return;
    this.#entries.delete(scheduleId);
    this.#seats -= entry.seats;
  }
}
