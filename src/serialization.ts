/**
 * Weights to and from the safetensors format, bytes in and bytes out (so it works in a browser and
 * in Node): an 8-byte little-endian header length, a JSON header of
 * `{name: {dtype, shape, data_offsets}}` padded with spaces to 8 bytes, then the raw little-endian
 * data. The layout is the reference writer's (tensors sorted by dtype, larger first, then by name),
 * so the bytes equal what Python's `safetensors.torch.save` writes for the same tensors.
 */
import type { Device } from './backend.js';
import { tensor } from './creation.js';
import type { DType } from './dtype.js';
import { pyType } from './args.js';
import { RuntimeError, TypeError } from './errors.js';
import { Tensor } from './tensor.js';

/** The format's dtype names, in the order of its dtype enum (the writer sorts by it). */
const ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
const CODE: Record<DType, (typeof ORDER)[number]> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/**
 * Serializes named tensors (a `module.stateDict()`) to safetensors bytes. Async because WebGPU
 * tensors are read back first. `metadata` becomes the header's `__metadata__` (string values).
 *
 * @example
 * const bytes = await torch.saveSafetensors(model.stateDict());   // fs.writeFileSync('model.safetensors', bytes)
 */
export async function saveSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const entries = Object.entries(tensors);
  for (const [k, t] of entries) {
    if (!(t instanceof Tensor)) throw new RuntimeError(`saveSafetensors: value for "${k}" is not a Tensor`);
  }
  entries.sort(([an, a], [bn, b]) => ORDER.indexOf(CODE[b.dtype]) - ORDER.indexOf(CODE[a.dtype]) || (an < bn ? -1 : an > bn ? 1 : 0));
  const blobs = await Promise.all(entries.map(async ([, t]) => {
    const d = await t.data();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  entries.forEach(([k, t], i) => {
    const n = blobs[i]!.byteLength;
    header[k] = { dtype: CODE[t.dtype], shape: t.shape.slice(), data_offsets: [offset, offset + n] };
    offset += n;
  });
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8 };

/** IEEE half to number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decodes one tensor's bytes into wgtorch's dtypes: F16/BF16 widen to float32, 8/16/64-bit ints to int32. */
function decode(name: string, dtype: string, bytes: Uint8Array, n: number): { data: ArrayLike<number>; dtype: DType } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (f: (i: number) => number, d: DType) => ({ data: Float64Array.from({ length: n }, (_, i) => f(i)), dtype: d });
  switch (dtype) {
    case 'F32': return { data: new Float32Array(bytes.slice().buffer), dtype: 'float32' };
    case 'F64': return { data: new Float64Array(bytes.slice().buffer), dtype: 'float64' };
    case 'I32': return { data: new Int32Array(bytes.slice().buffer), dtype: 'int32' };
    case 'BOOL': return read((i) => (bytes[i] ? 1 : 0), 'bool');
    case 'U8': return read((i) => dv.getUint8(i), 'int32');
    case 'I8': return read((i) => dv.getInt8(i), 'int32');
    case 'I16': return read((i) => dv.getInt16(2 * i, true), 'int32');
    case 'U16': return read((i) => dv.getUint16(2 * i, true), 'int32');
    case 'F16': return read((i) => halfToNumber(dv.getUint16(2 * i, true)), 'float32');
    case 'BF16': return read((i) => new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!, 'float32');
    case 'I64':
      return read((i) => {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new RuntimeError(`loadSafetensors: "${name}" holds ${v}, outside wgtorch's int32 range`);
        return Number(v);
      }, 'int32');
  }
  throw new RuntimeError(`loadSafetensors: "${name}" has dtype ${dtype}, which wgtorch cannot load`);
}

/**
 * Reads safetensors bytes into named tensors on `device` (default cpu). PyTorch's int64 loads as
 * int32 (wgtorch's integer dtype), float16/bfloat16 as float32.
 *
 * @example
 * model.loadStateDict(torch.loadSafetensors(bytes));
 */
export function loadSafetensors(bytes: Uint8Array, opts: { device?: Device | string } = {}): Record<string, Tensor> {
  const bad = (why: string) => new RuntimeError(`Error while deserializing header: ${why}`);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadSafetensors(): argument 'bytes' must be a Uint8Array, not ${pyType(bytes)}`);
  if (bytes.byteLength < 8) throw bad('HeaderTooSmall');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.byteLength) throw bad('InvalidHeaderLength');
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as typeof header;
  } catch {
    throw bad('InvalidHeaderDeserialization');
  }
  const body = bytes.subarray(8 + n);
  const out: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [a, b] } = e as HeaderEntry;
    const count = shape.reduce((x, y) => x * y, 1);
    if (BYTES[dtype] === undefined) throw new RuntimeError(`loadSafetensors: "${name}" has dtype ${dtype}, which wgtorch cannot load`);
    if (b - a !== count * BYTES[dtype]! || b > body.byteLength || a > b) throw bad('TensorInvalidInfo');
    const { data, dtype: dt } = decode(name, dtype, body.subarray(a, b), count);
    out[name] = tensor(data, { dtype: dt, device: opts.device }).reshape(shape);
  }
  return out;
}
