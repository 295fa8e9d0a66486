import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** Small helpers for writes that must be on disk before they are reported done. */

/** write() until every byte is written (a regular file may take fewer bytes in one call). */
export function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Create a file that must not exist yet, write it and fsync it. */
export function writeNewFile(path: string, data: Uint8Array | string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory, so that a file just created in it survives a crash. Best effort: not every platform can. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}
