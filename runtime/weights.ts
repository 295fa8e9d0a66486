/** Weight decoding of the layers format: float32, float16 and affine uint8/uint16, as tfjs decodes them. */

export interface WeightSpecJson {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export const BYTES: Record<string, number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };

/** IEEE 754 binary16 → number (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decodes one tensor's bytes to float32 values, as tfjs's `decodeWeights` does. */
export function decodeTensor(spec: WeightSpecJson, data: Uint8Array, offset: number, where: string): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  if (spec.dtype !== 'float32') throw new Error(`${where}: weight ${spec.name} has dtype ${spec.dtype}, expected float32`);
  const kind = q ? q.dtype : 'float32';
  if (!(kind in BYTES)) throw new Error(`${where}: weight ${spec.name} has quantization dtype ${kind}, expected float16, uint8 or uint16`);
  const view = new DataView(data.buffer, data.byteOffset + offset, size * BYTES[kind]);
  const out = new Float32Array(size);
  if (kind === 'float32') for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
  else if (kind === 'float16') for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else {
    const { min, scale } = q as { min: number; scale: number };
    if (typeof min !== 'number' || typeof scale !== 'number') throw new Error(`${where}: weight ${spec.name} is quantized to ${kind} without numeric "min" and "scale"`);
    for (let i = 0; i < size; i++) out[i] = (kind === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) * scale + min;
  }
  return out;
}
