import type { FieldError } from '../../platform/http/errors.js';
import type { Grade, SeatGradeRule, VenueLayout } from './catalog.tables.js';

export interface GradingInput {
  grades: Grade[];
  seatGrades: SeatGradeRule[];
  defaultGrade: string;
}

/**
 * The grade of a seat: the first rule whose section (and rows, when given) matches wins;
 * unmatched seats get the default grade. The SQL that fills a showtime's inventory
 * (`catalog.repository.ts#createInventory`) is this function written as a CASE expression.
 */
export function gradeOf(seat: { section: string; rowLabel: string }, input: Pick<GradingInput, 'seatGrades' | 'defaultGrade'>): string {
  for (const rule of input.seatGrades) {
    if (rule.section === seat.section && (rule.rows === undefined || rule.rows.includes(seat.rowLabel))) return rule.grade;
  }
  return input.defaultGrade;
}

/** References a schema cannot check: grade names unique, rules naming known grades, sections and rows. */
export function gradingErrors(input: GradingInput, layout: VenueLayout): FieldError[] {
  const errors: FieldError[] = [];
  const grades = new Set<string>();
  input.grades.forEach((g, i) => {
    if (grades.has(g.name)) errors.push({ path: `/body/grades/${i}/name`, message: `duplicate grade "${g.name}"` });
    grades.add(g.name);
  });
  if (!grades.has(input.defaultGrade)) errors.push({ path: '/body/defaultGrade', message: `unknown grade "${input.defaultGrade}"` });
  const rowsBySection = new Map(layout.sections.map((s) => [s.name, new Set(s.rows.map((r) => r.label))]));
  input.seatGrades.forEach((rule, i) => {
    if (!grades.has(rule.grade)) errors.push({ path: `/body/seatGrades/${i}/grade`, message: `unknown grade "${rule.grade}"` });
    const rows = rowsBySection.get(rule.section);
    if (!rows) {
      errors.push({ path: `/body/seatGrades/${i}/section`, message: `the venue has no section "${rule.section}"` });
      return;
    }
    rule.rows?.forEach((label, j) => {
      if (!rows.has(label)) errors.push({ path: `/body/seatGrades/${i}/rows/${j}`, message: `section "${rule.section}" has no row "${label}"` });
    });
  });
  return errors;
}
