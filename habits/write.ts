import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic file writes: a reader (or a crash) sees the old file or the whole new one, never half.
 * The bytes go to a temporary file in the target's folder (a rename is atomic only within one file
 * system), are fsynced (so the rename never points at data still in the page cache), then renamed.
 */

/** Chunks of the write, so that a test can make it fail midway (`onChunk` throws). */
const CHUNK = 64 * 1024;

export interface AtomicWriteHooks {
  /** Called after each chunk is written to the temporary file (tests make it throw). */
  onChunk?: (written: number) => void;
}

export function writeFileAtomic(path: string, content: string | Uint8Array, hooks: AtomicWriteHooks = {}): void {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    for (let at = 0; at < bytes.length; at += CHUNK) {
      writeSync(fd, bytes, at, Math.min(CHUNK, bytes.length - at));
      hooks.onChunk?.(Math.min(at + CHUNK, bytes.length));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
  }
}

/** The companion CSV's path: `<out>.days.csv` beside the scenario (`my-home.json` → `my-home.days.csv`). */
export const companionPath = (out: string): string => out.replace(/\.json$/i, '') + '.days.csv';

/**
 * A fitted scenario and its companion CSV: the CSV first, the JSON last, so that a JSON on disk
 * always has its CSV (a failure between them leaves at most a complete, unreferenced CSV).
 */
export function writeFitted(out: string, scenario: object, companionCsv: string | null, hooks: AtomicWriteHooks = {}): string[] {
  const written: string[] = [];
  if (companionCsv !== null) {
    writeFileAtomic(companionPath(out), companionCsv, hooks);
    written.push(companionPath(out));
  }
  writeFileAtomic(out, `${JSON.stringify(scenario, null, 2)}\n`, hooks);
  written.push(out);
  return written;
}
