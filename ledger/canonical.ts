import { createHash } from 'node:crypto';

/**
 * Canonical JSON: what is hashed, signed and stored. One value has exactly one serialisation, so a
 * verifier can demand that a stored line is byte for byte the serialisation of what it parses to:
 * any byte changed in a line then changes a hashed value or breaks the form, never slips through
 * as "equivalent JSON" (spaces, key order, "1e6" for 1000000, "\u0041" for "A", a duplicate key).
 *
 * Rules: object keys sorted by UTF-16 code units (Array.prototype.sort), no whitespace, strings as
 * JSON.stringify writes them, numbers only as safe integers in decimal, plus true, false, null and
 * arrays. Anything else (floats, NaN, undefined, bigint, functions) throws.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds safe integers only, got ${value}`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        if (obj[k] === undefined) throw new TypeError(`canonical JSON: key "${k}" is undefined`);
        parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

/** SHA-256 of a string (UTF-8) or bytes, as 32 bytes. */
export function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** SHA-256 as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export const HEX64 = /^[0-9a-f]{64}$/;
export const HEX128 = /^[0-9a-f]{128}$/;
