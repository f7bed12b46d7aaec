import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradeOf, gradingErrors } from './grading.js';
import { countSeats, expandSeats, layoutErrors } from './layout.js';
import { shareRepeated } from './inventory.repository.js';
import { buildSeatMapBase, renderSeatMap, SeatMapCache } from './seat-map.js';

const label = fc.stringMatching(/^[A-Z0-9]{1,3}$/);
const layoutArb = fc
  .uniqueArray(label, { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .uniqueArray(label, { minLength: 1, maxLength: 4 })
          .chain((rows) => fc.tuple(...rows.map((l) => fc.integer({ min: 1, max: 6 }).map((seats) => ({ label: l, seats })))).map((r) => ({ name, rows: r }))),
      ),
    ),
  )
  .map((sections) => ({ sections }));

describe('layout', () => {
  it('expands every seat once, in order, with unique labels', () => {
    fc.assert(
      fc.property(layoutArb, (layout) => {
        const seats = [...expandSeats(layout)];
        expect(seats).toHaveLength(countSeats(layout));
        expect(new Set(seats.map((s) => s.label)).size).toBe(seats.length);
        expect(seats.map((s) => s.ordinal)).toEqual(seats.map((_, i) => i));
        for (const s of seats) expect(s.label).toBe(`${s.section}-${s.rowLabel}-${s.number}`);
        expect(layoutErrors(layout, 1_000_000)).toEqual([]);
      }),
    );
  });

  it('flags duplicates and oversize', () => {
    const layout = {
      sections: [
        {
          name: 'A',
          rows: [
            { label: '1', seats: 5 },
            { label: '1', seats: 5 },
          ],
        },
        { name: 'A', rows: [{ label: '1', seats: 1 }] },
      ],
    };
    expect(layoutErrors(layout, 10).map((e) => e.path)).toEqual(['/body/sections/0/rows/1/label', '/body/sections/1/name', '/body/sections']);
  });
});

describe('grading', () => {
  const rules = [
    { grade: 'VIP', section: 'A', rows: ['1'] },
    { grade: 'R', section: 'A' },
    { grade: 'VIP', section: 'B', rows: ['2', '3'] },
  ];

  it('applies the first matching rule, else the default', () => {
    const input = { seatGrades: rules, defaultGrade: 'S' };
    expect(gradeOf({ section: 'A', rowLabel: '1' }, input)).toBe('VIP');
    expect(gradeOf({ section: 'A', rowLabel: '2' }, input)).toBe('R');
    expect(gradeOf({ section: 'B', rowLabel: '3' }, input)).toBe('VIP');
    expect(gradeOf({ section: 'B', rowLabel: '1' }, input)).toBe('S');
    expect(gradeOf({ section: 'C', rowLabel: '1' }, input)).toBe('S');
  });

  it('always answers a grade that is named by a rule or is the default', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            grade: fc.constantFrom('X', 'Y'),
            section: fc.constantFrom('A', 'B'),
            rows: fc.option(fc.array(fc.constantFrom<string>('1', '2')), { nil: undefined }),
          }),
        ),
        fc.constantFrom('A', 'B', 'C'),
        fc.constantFrom('1', '2', '3'),
        (seatGrades, section, rowLabel) => {
          const grade = gradeOf({ section, rowLabel }, { seatGrades, defaultGrade: 'D' });
          const first = seatGrades.find((r) => r.section === section && (r.rows === undefined || r.rows.includes(rowLabel)));
          expect(grade).toBe(first ? first.grade : 'D');
        },
      ),
    );
  });

  it('names every bad reference', () => {
    const layout = { sections: [{ name: 'A', rows: [{ label: '1', seats: 1 }] }] };
    const errors = gradingErrors(
      {
        grades: [
          { name: 'R', price: 1 },
          { name: 'R', price: 2 },
        ],
        seatGrades: [
          { grade: 'Q', section: 'A', rows: ['9'] },
          { grade: 'R', section: 'Z' },
        ],
        defaultGrade: 'S',
      },
      layout,
    );
    expect(errors.map((e) => e.path)).toEqual([
      '/body/grades/1/name',
      '/body/defaultGrade',
      '/body/seatGrades/0/grade',
      '/body/seatGrades/0/rows/0',
      '/body/seatGrades/1/section',
    ]);
  });
});

describe('seat map rendering', () => {
  const inventory = Array.from({ length: 6 }, (_, i) => ({
    seatId: `00000000-0000-7000-8000-00000000000${i}`,
    label: `A-1-${i + 1}`,
    section: 'A',
    row: '1',
    number: i + 1,
    grade: i < 2 ? 'VIP' : 'R "quoted"',
    price: 1000 * (i + 1),
  }));

  it('renders the same JSON a serializer would, with SOLD over HELD and heldByMe for the viewer only', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('free', 'sold', 'mine', 'theirs'), { minLength: 6, maxLength: 6 }), (states) => {
        const sold = new Set(inventory.filter((_, i) => states[i] === 'sold').map((s) => s.seatId));
        const held = new Map<string, string>();
        inventory.forEach((s, i) => {
          if (states[i] === 'mine') held.set(s.seatId, 'me');
          if (states[i] === 'theirs') held.set(s.seatId, 'other');
        });
        const json = JSON.parse(renderSeatMap(buildSeatMapBase('sch', inventory), sold, held, 'me').toString('utf8'));
        expect(json).toEqual({
          scheduleId: 'sch',
          seats: inventory.map((s, i) => ({
            ...s,
            status: states[i] === 'sold' ? 'SOLD' : states[i] === 'free' ? 'AVAILABLE' : 'HELD',
            ...(states[i] === 'mine' ? { heldByMe: true } : {}),
          })),
        });
      }),
    );
  });

  it('patches the template for anonymous viewers and leaves the template untouched', () => {
    const base = buildSeatMapBase('sch', [...inventory, { ...inventory[0]!, seatId: 'x', label: '한글-1-1', section: '한글' }]);
    const before = Buffer.from(base.template);
    const body = renderSeatMap(base, new Set(['x']), new Map([[inventory[1]!.seatId, 'someone']]), undefined);
    const json = JSON.parse(body.toString('utf8'));
    expect(json.seats.map((s: { status: string }) => s.status)).toEqual(['AVAILABLE', 'HELD', 'AVAILABLE', 'AVAILABLE', 'AVAILABLE', 'AVAILABLE', 'SOLD']);
    expect(json.seats[6].section).toBe('한글');
    expect(base.template.equals(before)).toBe(true);
    expect(renderSeatMap(base, new Set(), new Map(), 'me')).toBe(base.template);
  });

  it('keeps the cache within its seat budget, least recently used out first', () => {
    const cache = new SeatMapCache(10);
    const base = (id: string, n: number) => buildSeatMapBase(id, inventory.slice(0, n));
    cache.set(base('a', 4));
    cache.set(base('b', 4));
    cache.get('a');
    cache.set(base('c', 4)); // 12 > 10: the least recently used (b) goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...inventory[0]!, seatId: `seat-${i}` }));
    cache.set(buildSeatMapBase('huge', eleven)); // larger than the whole budget: not kept
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
  });
});

describe('shareRepeated', () => {
  it('keeps every seat as it was read (only equal strings are shared)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seatId: fc.uuid(),
            label: fc.string(),
            section: fc.constantFrom('A', 'Floor B', '2층'),
            row: fc.string({ maxLength: 3 }),
            number: fc.nat(),
            grade: fc.constantFrom('VIP', 'R', 'S'),
            price: fc.nat(),
          }),
        ),
        (rows) => {
          const read = structuredClone(rows);
          expect(shareRepeated(rows)).toEqual(read);
        },
      ),
    );
  });
});
