/**
 * PyTorch 1.13's `str(tensor)` text, reproduced exactly (torch/_tensor_str.py with default print options).
 * Pure: no imports, runs in browsers and Node alike.
 */

export type FormatDType = 'float32' | 'float64' | 'int32' | 'bool';

// PyTorch's default print options.
const PRECISION = 4;
const THRESHOLD = 1000;
const EDGEITEMS = 3;
const LINEWIDTH = 80;
const PREFIX = 'tensor(';

// ---------------------------------------------------------------------------------------------
// Exact decimal formatting of doubles, as Python's '{:.Nf}' / '{:.Ne}' do it: correctly rounded
// from the exact binary value, ties to even. JS's toFixed/toExponential round ties away from
// zero (0.125.toFixed(2) === '0.13', Python gives '0.12'), so we do it with BigInt.

const bigPow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  return (bigPow10Cache[n] ??= 10n ** BigInt(n));
}

// Scratch space for reading a double's bits (reused: allocating one per call shows up in profiles).
const view = new DataView(new ArrayBuffer(8));

/** Splits a finite, nonzero |x| into an exact rational num/den with BigInts. */
function toRational(ax: number): { num: bigint; den: bigint } {
  view.setFloat64(0, ax);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) {
    exp = -1074; // subnormal
  } else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return exp >= 0 ? { num: mant << BigInt(exp), den: 1n } : { num: mant, den: 1n << BigInt(-exp) };
}

/** num/den rounded to an integer, ties to even. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twiceR = 2n * (num % den);
  if (twiceR > den || (twiceR === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function nonFinite(x: number): string | undefined {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return undefined;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python's `'{:.{digits}f}'.format(x)`. */
function formatFixed(x: number, digits: number): string {
  const nf = nonFinite(x);
  if (nf !== undefined) return nf;
  let n = 0n;
  if (x !== 0) {
    const { num, den } = toRational(Math.abs(x));
    n = roundHalfEven(num * pow10(digits), den);
  }
  let s = n.toString().padStart(digits + 1, '0');
  if (digits > 0) s = s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits);
  return sign(x) + s;
}

/** Python's `'{:.{digits}e}'.format(x)`: mantissa with `digits` decimals, exponent signed, ≥ 2 digits. */
function formatExp(x: number, digits: number): string {
  const nf = nonFinite(x);
  if (nf !== undefined) return nf;
  let mantissa = 0n;
  let e = 0;
  if (x !== 0) {
    const { num, den } = toRational(Math.abs(x));
    // Find e with 10^digits <= |x| / 10^(e - digits) < 10^(digits + 1); log10 only gives a first guess.
    e = Math.floor(Math.log10(Math.abs(x)));
    const scaled = (k: number): { n: bigint; d: bigint } => {
      const shift = digits - k;
      return shift >= 0 ? { n: num * pow10(shift), d: den } : { n: num, d: den * pow10(-shift) };
    };
    for (;;) {
      const { n, d } = scaled(e);
      const q = n / d;
      if (q < pow10(digits)) e--;
      else if (q >= pow10(digits + 1)) e++;
      else {
        mantissa = roundHalfEven(n, d);
        break;
      }
    }
    // Rounding up may carry into a new digit (9.99995 -> 10.0000): that result is exactly a power of 10.
    if (mantissa === pow10(digits + 1)) {
      mantissa = pow10(digits);
      e++;
    }
  }
  let m = mantissa.toString().padStart(digits + 1, '0');
  if (digits > 0) m = m[0] + '.' + m.slice(1);
  const absE = Math.abs(e).toString().padStart(2, '0');
  return `${sign(x)}${m}e${e < 0 ? '-' : '+'}${absE}`;
}

/**
 * Python's `repr(float)` of a double: the shortest digits that round-trip, written in fixed notation
 * when the decimal exponent is in [-4, 16), else in scientific notation.
 * E.g. 32 -> "32.0", 362.14410400390625 -> "362.14410400390625", 1e-6 -> "1e-06", 1e16 -> "1e+16",
 * NaN -> "nan", Infinity -> "inf", -0 -> "-0.0".
 */
export function pyFloatRepr(x: number): string {
  const nf = nonFinite(x);
  if (nf !== undefined) return nf;
  if (x === 0) return sign(x) + '0.0';
  // JS's shortest round-trip digits are the same digits Python's repr picks; only the layout differs.
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const decpt = Number(expStr) + 1; // x = 0.DIGITS * 10^decpt
  let body: string;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) body = '0.' + '0'.repeat(-decpt) + digits;
    else if (decpt >= digits.length) body = digits + '0'.repeat(decpt - digits.length) + '.0';
    else body = digits.slice(0, decpt) + '.' + digits.slice(decpt);
  } else {
    const e = decpt - 1;
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    body = `${m}e${e < 0 ? '-' : '+'}${Math.abs(e).toString().padStart(2, '0')}`;
  }
  return sign(x) + body;
}

// ---------------------------------------------------------------------------------------------
// The element formatter (PyTorch's _Formatter): one mode and one width for the whole tensor.

interface Formatter {
  width: number;
  format(v: number): string;
}

function makeFormatter(sample: readonly number[], dtype: FormatDType): Formatter {
  if (dtype === 'int32' || dtype === 'bool') {
    const str = dtype === 'bool' ? (v: number) => (v ? 'True' : 'False') : (v: number) => String(v);
    const width = sample.reduce((w, v) => Math.max(w, str(v).length), 1);
    return { width, format: (v) => str(v).padStart(width) };
  }

  const finite = sample.filter((v) => Number.isFinite(v) && v !== 0);
  let width = 1;
  let sciMode = false;
  // Integral floats print as `1.`; an all-zero/non-finite tensor counts as integral too.
  const intMode = finite.every((v) => v === Math.ceil(v));
  if (finite.length > 0) {
    // A loop, not Math.max(...): a summarized sample can be too long to spread.
    let max = 0;
    let min = Infinity;
    for (const v of finite) {
      max = Math.max(max, Math.abs(v));
      min = Math.min(min, Math.abs(v));
    }
    // PyTorch skips the `min < 1e-4` test in int mode: tiny integers do not exist.
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const len = sciMode
        ? formatExp(v, PRECISION).length
        : intMode
          ? formatFixed(v, 0).length + 1
          : formatFixed(v, PRECISION).length;
      width = Math.max(width, len);
    }
  }

  const format = (v: number): string => {
    let s: string;
    if (sciMode) s = formatExp(v, PRECISION);
    else if (intMode) s = formatFixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    else s = formatFixed(v, PRECISION);
    return s.padStart(width);
  };
  return { width, format };
}

// ---------------------------------------------------------------------------------------------
// Layout: nested brackets, summarization and line wrapping.

// Elements are read in place (a big tensor is mostly skipped when summarized); bools become 0/1.
type Values = ArrayLike<number | boolean>;

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The indices shown along a dim of the given size: all, or the first and last EDGEITEMS when summarizing. */
function shownIndices(size: number, summarize: boolean): number[] {
  const all = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
  if (summarize && size > 2 * EDGEITEMS) return [...all(EDGEITEMS), ...all(EDGEITEMS, size - EDGEITEMS)];
  return all(size);
}

/** The values PyTorch's formatter sees: everything, or only the summarized corners. */
function summarizedValues(values: Values, shape: readonly number[], summarize: boolean): number[] {
  const out: number[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      out.push(Number(values[offset]));
      return;
    }
    const stride = product(shape.slice(dim + 1));
    for (const i of shownIndices(shape[dim], summarize)) walk(dim + 1, offset + i * stride);
  };
  walk(0, 0);
  return out;
}

function vectorStr(
  values: Values,
  offset: number,
  size: number,
  indent: number,
  summarize: boolean,
  fmt: Formatter,
): string {
  const elementLength = fmt.width + 2; // ", " between elements
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
  const data: string[] = [];
  if (summarize && size > 2 * EDGEITEMS) {
    for (let i = 0; i < EDGEITEMS; i++) data.push(fmt.format(Number(values[offset + i])));
    data.push(' ...');
    for (let i = size - EDGEITEMS; i < size; i++) data.push(fmt.format(Number(values[offset + i])));
  } else {
    for (let i = 0; i < size; i++) data.push(fmt.format(Number(values[offset + i])));
  }
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(', '));
  return '[' + lines.join(',\n' + ' '.repeat(indent + 1)) + ']';
}

function tensorStr(
  values: Values,
  shape: readonly number[],
  dim: number,
  offset: number,
  indent: number,
  summarize: boolean,
  fmt: Formatter,
): string {
  const rank = shape.length - dim;
  if (rank === 0) return fmt.format(Number(values[offset]));
  if (rank === 1) return vectorStr(values, offset, shape[dim], indent, summarize, fmt);
  const size = shape[dim];
  const stride = product(shape.slice(dim + 1));
  const slice = (i: number) => tensorStr(values, shape, dim + 1, offset + i * stride, indent + 1, summarize, fmt);
  let slices: string[];
  if (summarize && size > 2 * EDGEITEMS) {
    slices = [];
    for (let i = 0; i < EDGEITEMS; i++) slices.push(slice(i));
    slices.push('...');
    for (let i = size - EDGEITEMS; i < size; i++) slices.push(slice(i));
  } else {
    slices = Array.from({ length: size }, (_, i) => slice(i));
  }
  // Higher dims are separated by (rank - 1) newlines, i.e. blank lines between matrices.
  return '[' + slices.join(',' + '\n'.repeat(rank - 1) + ' '.repeat(indent + 1)) + ']';
}

/** PyTorch's _add_suffixes: `, suffix` on the same line while it fits, else on a new indented line. */
function addSuffixes(text: string, suffixes: readonly string[], indent: number): string {
  const parts = [text];
  // Mirrors PyTorch's arithmetic (including its +1 when there is a newline, +2 when there is none).
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > LINEWIDTH) {
      parts.push(',\n' + ' '.repeat(indent) + suffix);
      lastLineLen = indent + suffix.length;
    } else {
      parts.push(', ' + suffix);
      lastLineLen += suffix.length + 2;
    }
  }
  return parts.join('') + ')';
}

/** Inserts suffixes where PyTorch puts its own (size=, dtype=): after a device suffix if there is one, else first. */
function insertAfterDevice(suffixes: readonly string[], inserted: readonly string[]): string[] {
  const out = [...suffixes];
  const device = out.findIndex((s) => s.startsWith('device='));
  out.splice(device + 1, 0, ...inserted);
  return out;
}

/**
 * PyTorch 1.13's `str(t)` for a dense tensor with default print options.
 *
 * @param values Elements flat in row-major order (bool as 0/1 or booleans; float32 values as the doubles they are).
 * @param shape The tensor's shape; `[]` for a 0-dim tensor.
 * @param dtype The element type. `int32` prints as PyTorch's default integer type (int64) does, without a dtype
 *   suffix; `float64` adds `dtype=torch.float64`.
 * @param suffixes The suffixes PyTorch puts after the data, in order, e.g. `["device='webgpu:0'", "requires_grad=True"]`
 *   or `["grad_fn=<AddBackward0>"]`. The dtype suffix is inserted for you (after a device suffix, else first).
 * @returns The exact text, e.g. `tensor([1.0000, 2.5000], requires_grad=True)`.
 */
export function formatTensor(
  values: ArrayLike<number | boolean>,
  shape: readonly number[],
  dtype: FormatDType,
  suffixes: readonly string[] = [],
): string {
  const numel = product(shape);

  if (numel === 0) {
    // Empty tensors show their shape unless it is (0,), and any dtype but the default float one
    // (there are no elements to infer an integer type from; int32 stands for PyTorch's int64).
    const own: string[] = [];
    if (shape.length !== 1) own.push(`size=(${shape.join(', ')})`);
    const dtypeName = { float32: '', float64: 'float64', int32: 'int64', bool: 'bool' }[dtype];
    if (dtypeName) own.push(`dtype=torch.${dtypeName}`);
    return addSuffixes(PREFIX + '[]', insertAfterDevice(suffixes, own), PREFIX.length);
  }

  const summarize = numel > THRESHOLD;
  const fmt = makeFormatter(summarizedValues(values, shape, summarize), dtype);
  const body = tensorStr(values, shape, 0, 0, PREFIX.length, summarize, fmt);
  const all = dtype === 'float64' ? insertAfterDevice(suffixes, ['dtype=torch.float64']) : suffixes;
  return addSuffixes(PREFIX + body, all, PREFIX.length);
}
