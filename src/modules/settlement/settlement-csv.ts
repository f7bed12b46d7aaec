/**
 * CSV as RFC 4180 writes it: fields separated by commas, records ended by CRLF, a field that
 * holds a comma, a double quote, CR or LF enclosed in double quotes with each double quote
 * doubled. The file starts with the UTF-8 byte order mark, so spreadsheet programs (Excel)
 * read it as UTF-8 and show Korean titles instead of mojibake.
 */

export const UTF8_BOM = '\uFEFF';

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRecord(values: readonly (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
