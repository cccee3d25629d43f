import fs from 'node:fs';
import { describe, it, expect } from 'vitest';
import { formatTensor, pyFloatRepr, type FormatDType } from '../src/format.js';

interface FixtureCase {
  note: string;
  tensor: { shape: number[]; dtype: 'float32' | 'int64' | 'bool'; data: (number | boolean | string)[] };
  requires_grad: boolean;
  str: string;
}

const cases: FixtureCase[] = JSON.parse(
  fs.readFileSync(new URL('./fixtures/format.json', import.meta.url), 'utf8'),
);

// The fixture writes non-finite values as strings.
function decode(v: number | boolean | string): number | boolean {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number | boolean;
}

// PyTorch's int64 is wgtorch's int32.
const dtypeOf: Record<FixtureCase['tensor']['dtype'], FormatDType> = {
  float32: 'float32',
  int64: 'int32',
  bool: 'bool',
};

describe('formatTensor matches PyTorch 1.13 str(t) (fixtures)', () => {
  it('has fixture cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const [i, c] of cases.entries()) {
    it(`#${i} ${c.note}`, () => {
      const { shape, dtype, data } = c.tensor;
      // Float32 data comes as float64 JSON numbers; Math.fround is a no-op on true float32 values.
      const values = data.map(decode).map((v) => (dtype === 'float32' ? Math.fround(v as number) : v));
      const suffixes = c.requires_grad ? ['requires_grad=True'] : [];
      expect(formatTensor(values, shape, dtypeOf[dtype], suffixes)).toBe(c.str);
    });
  }
});

describe('formatTensor literal cases', () => {
  it('0-dim', () => {
    expect(formatTensor([32], [], 'float32')).toBe('tensor(32.)');
  });
  it('float64 adds a dtype suffix', () => {
    expect(formatTensor([1.5], [1], 'float64')).toBe('tensor([1.5000], dtype=torch.float64)');
  });
  it('device suffix', () => {
    expect(formatTensor([1, 2], [2], 'float32', ["device='webgpu:0'"])).toBe("tensor([1., 2.], device='webgpu:0')");
  });
  it('dtype goes after device and before grad suffixes', () => {
    expect(formatTensor([1.5], [1], 'float64', ["device='webgpu:0'", 'requires_grad=True'])).toBe(
      "tensor([1.5000], device='webgpu:0', dtype=torch.float64, requires_grad=True)",
    );
  });
  it('grad_fn suffix on a 0-dim tensor', () => {
    expect(formatTensor([3], [], 'float32', ['grad_fn=<SumBackward0>'])).toBe('tensor(3., grad_fn=<SumBackward0>)');
  });
  it('a suffix that would pass the line width goes on its own line', () => {
    const values = Array.from({ length: 7 }, (_, i) => i + 0.5);
    expect(formatTensor(values, [7], 'float32', ['grad_fn=<AddBackward0>'])).toBe(
      'tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000],\n       grad_fn=<AddBackward0>)',
    );
  });
  it('bool values may be booleans or 0/1', () => {
    expect(formatTensor([true, false], [2], 'bool')).toBe('tensor([ True, False])');
    expect(formatTensor([1, 0], [2], 'bool')).toBe('tensor([ True, False])');
  });
  it('empty tensors', () => {
    expect(formatTensor([], [0], 'float32')).toBe('tensor([])');
    expect(formatTensor([], [2, 0, 3], 'float32')).toBe('tensor([], size=(2, 0, 3))');
    expect(formatTensor([], [0], 'int32')).toBe('tensor([], dtype=torch.int64)');
  });
  it('rounds exact ties to even, as Python does', () => {
    // 1.03125 and 1.09375 are exact ties at the 5th decimal: ties go to even (JS toFixed gives 1.0313).
    expect(formatTensor([1.03125, 1.09375], [2], 'float32')).toBe('tensor([1.0312, 1.0938])');
    // The same tie in scientific notation (the tiny value forces sci mode).
    expect(formatTensor([1.03125, Math.fround(1e-5)], [2], 'float32')).toBe('tensor([1.0312e+00, 1.0000e-05])');
  });
});

describe('pyFloatRepr matches Python repr(float)', () => {
  const expected: [number, string][] = [
    [32, '32.0'],
    [362.14410400390625, '362.14410400390625'],
    [8.020562171936035, '8.020562171936035'],
    [1e-6, '1e-06'],
    [1.5e-7, '1.5e-07'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123456789.0, '123456789.0'],
    [-0, '-0.0'],
    [0, '0.0'],
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [0.1, '0.1'],
    [1e-4, '0.0001'],
    [1e-5, '1e-05'],
    [-2.5, '-2.5'],
    [1.2345e100, '1.2345e+100'],
    [5e-324, '5e-324'],
  ];
  for (const [x, s] of expected) {
    it(`${String(x)} -> ${s}`, () => {
      expect(pyFloatRepr(x)).toBe(s);
    });
  }
});
