import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';

/**
 * A small CSV reader. d3-dsv sits in node_modules (through vega) but is not a dependency of ours
 * and loses line numbers; every error here must name its line, so the reader keeps them.
 */
export interface CsvOptions {
  delimiter?: ',' | ';';
  /** `29,87` means 29.87 (European exports; only sensible with `;` as delimiter). */
  decimalComma?: boolean;
}

export interface CsvRow {
  /** 1-based line where the row starts (a quoted field may span lines). */
  line: number;
  cells: string[];
}

export interface CsvTable {
  file: string;
  header: string[];
  rows: CsvRow[];
  decimalComma: boolean;
}

/** Splits text into rows of cells: quotes ("" escapes a quote), CRLF or LF, blank lines skipped. */
export function splitCsv(text: string, delimiter = ','): CsvRow[] {
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0].trim() !== '') rows.push({ line: start, cells: cells.map((c) => c.trim()) });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      start = line;
    } else cell += c;
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

export function parseCsv(text: string, file: string, opts: CsvOptions = {}): CsvTable {
  const all = splitCsv(text, opts.delimiter ?? ',');
  if (all.length === 0) throw new InputError(file, 1, 'header', '', 'a header row naming the columns');
  return { file, header: all[0].cells, rows: all.slice(1), decimalComma: opts.decimalComma ?? false };
}

export const readCsv = (path: string, opts: CsvOptions = {}): CsvTable => parseCsv(readFileSync(path, 'utf8'), path, opts);

/** The index of a required column (the first of `names` present); the error lists the header. */
export function column(t: CsvTable, ...names: string[]): number {
  for (const n of names) {
    const i = t.header.indexOf(n);
    if (i >= 0) return i;
  }
  throw new InputError(t.file, 1, names.join(' or '), t.header.join(','), `a column named ${names.join(' or ')} (the header has: ${t.header.join(', ')})`);
}

export const optionalColumn = (t: CsvTable, name: string): number => t.header.indexOf(name);

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A cell as a number; `missing` (e.g. '' or 'NA') gives NaN when allowed, anything else unparsable throws. */
export function numberCell(t: CsvTable, row: CsvRow, col: number, allowMissing = false): number {
  const raw = row.cells[col] ?? '';
  if (allowMissing && (raw === '' || raw === 'NA')) return NaN;
  // In a decimal-comma file a dot is a thousands separator or a mistake: refused rather than guessed.
  const text = t.decimalComma ? (raw.includes('.') ? '?' : raw.replace(',', '.')) : raw;
  if (!NUMBER.test(text)) throw new InputError(t.file, row.line, t.header[col], raw, t.decimalComma ? 'a number (decimal comma, e.g. 29,87)' : 'a number (e.g. 1.25)');
  return Number(text);
}

export const cell = (row: CsvRow, col: number): string => row.cells[col] ?? '';
