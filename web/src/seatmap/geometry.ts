import type { LayoutSeat } from '../api/types.ts';

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * The layout of a showtime as typed arrays, with the lookups the map needs at 50,000 seats:
 * the seat under a point (one row lookup and a binary search) and the neighbour of a seat for
 * keyboard moves. Positions are the layout's, in seat pitches (x may be a half pitch).
 */
export class SeatGeometry {
  readonly n: number;
  readonly xs: Float32Array;
  readonly ys: Float32Array;
  readonly grade: Uint8Array;
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
  /** Seat indices of each row (by y), sorted by x. */
  private readonly rows = new Map<number, Int32Array>();
  private readonly rowYs: number[];
  /** Where to write each section's name: above its top-left seat. */
  readonly sections: { name: string; x: number; y: number }[];

  constructor(seats: readonly LayoutSeat[], gradeNames: readonly string[]) {
    this.n = seats.length;
    this.xs = new Float32Array(this.n);
    this.ys = new Float32Array(this.n);
    this.grade = new Uint8Array(this.n);
    const gradeIndex = new Map(gradeNames.map((g, i) => [g, i]));
    const byRow = new Map<number, number[]>();
    const sections = new Map<string, { name: string; x: number; y: number }>();
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (const s of seats) {
      const i = s.index;
      this.xs[i] = s.x;
      this.ys[i] = s.y;
      this.grade[i] = gradeIndex.get(s.grade) ?? 0;
      minX = Math.min(minX, s.x);
      maxX = Math.max(maxX, s.x);
      minY = Math.min(minY, s.y);
      maxY = Math.max(maxY, s.y);
      const row = byRow.get(s.y);
      if (row) row.push(i);
      else byRow.set(s.y, [i]);
      const sec = sections.get(s.section);
      if (!sec) sections.set(s.section, { name: s.section, x: s.x, y: s.y });
      else {
        sec.x = Math.min(sec.x, s.x);
        sec.y = Math.min(sec.y, s.y);
      }
    }
    for (const [y, list] of byRow) this.rows.set(y, Int32Array.from(list.sort((a, b) => this.xs[a]! - this.xs[b]!)));
    this.rowYs = [...byRow.keys()].sort((a, b) => a - b);
    this.sections = [...sections.values()];
    [this.minX, this.maxX, this.minY, this.maxY] = this.n ? [minX, maxX, minY, maxY] : [0, 0, 0, 0];
  }

  /** The seat whose square (one pitch wide, centred on its position) holds the point, or -1. */
  at(x: number, y: number): number {
    const row = this.rows.get(Math.round(y));
    if (!row) return -1;
    const i = this.nearestInRow(row, x);
    return i >= 0 && Math.abs(this.xs[i]! - x) <= 0.5 ? i : -1;
  }

  private nearestInRow(row: Int32Array, x: number): number {
    let lo = 0;
    let hi = row.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.xs[row[mid]!]! < x) lo = mid + 1;
      else hi = mid;
    }
    const a = row[lo]!;
    const b = lo > 0 ? row[lo - 1]! : a;
    return Math.abs(this.xs[b]! - x) < Math.abs(this.xs[a]! - x) ? b : a;
  }

  /** The next seat from `index` in a direction: along its row, or the nearest seat of the next row. */
  neighbor(index: number, dir: Direction): number {
    const y = this.ys[index]!;
    if (dir === 'left' || dir === 'right') {
      const row = this.rows.get(y)!;
      const at = row.indexOf(index);
      const next = row[at + (dir === 'right' ? 1 : -1)];
      return next ?? index;
    }
    const k = this.rowYs.indexOf(y) + (dir === 'down' ? 1 : -1);
    const nextY = this.rowYs[k];
    if (nextY === undefined) return index;
    return this.nearestInRow(this.rows.get(nextY)!, this.xs[index]!);
  }
}
