/**
 * Every kernel variant the WebGPU backend can generate runs, and gives the CPU's values. The list
 * comes from the generators themselves (`declareVariants` next to the code that chooses a variant);
 * the backend counts each dispatch's variants. A workload of small matmuls and reductions runs under
 * both kernel families ('gpu': what discrete GPUs run; 'cpu': what lavapipe/SwiftShader run; and
 * 'cpu' with the direct matmul forced, the CPU adapters' kernel where subgroup ops are missing), and
 * the test fails when a listed variant never ran (a new variant needs a case here) or when one ran
 * that the list lacks (the list is stale). All of it in this one file's process, so vitest's
 * separate workers do not matter. Skips without an adapter unless WGTORCH_REQUIRE_WEBGPU=1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { DIRECT_MATMUL, dispatchedVariants, kernelOverrides, kernelVariants, resetDispatchedVariants, type KernelChoice, type KernelConfig } from '../src/backends/webgpu/kernels.js';
import { rng, webgpuSuite } from './webgpu-suite.js';

const available = await webgpuSuite('test/kernel-variants.test.ts');
const rand = rng(7);

function data(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.tensor(Array.from({ length: n }, () => Math.round(rand() * 16 - 8) / 4)).reshape(shape);
}

/**
 * An [R, C] operand laid out to get read mode `mode` of matmul.ts's modeOf, where `oDim` is its
 * "o" dim (M of A, N of B): 'vo'/'vk' contiguous along o/k with aligned strides, 'so'/'sk' the same
 * walk from an offset of 1 with a row stride of (fast extent + 1), so vec4 reads are not allowed.
 * Returned on WebGPU (the view made there: moving a view copies it) and on the CPU.
 */
function operand(R: number, C: number, oDim: 0 | 1, mode: 'vo' | 'vk' | 'so' | 'sk'): [Tensor, Tensor] {
  // The dim that is contiguous: o for 'vo'/'so', k for 'vk'/'sk'.
  const fastDim = mode[1] === 'o' ? oDim : 1 - oDim;
  const aligned = mode[0] === 'v';
  const [rows, cols] = fastDim === 1 ? [R, C] : [C, R];
  const base = data([rows, cols + (aligned ? 0 : 1)]);
  const view = (t: Tensor) => {
    const m = aligned ? t : t.narrow(1, 1, cols);
    return fastDim === 1 ? m : m.t();
  };
  return [view(base.to('webgpu')), view(base)];
}

/** Each matmul and reduction variant on WebGPU, with the same op on the CPU for reference. */
function workload(): [string, Tensor, Tensor][] {
  const out: [string, Tensor, Tensor][] = [];
  const gpu = (t: Tensor) => t.to('webgpu');
  const modes = ['vo', 'vk', 'so', 'sk'] as const;
  // Every pair of read modes; N = 8 stores vec4s, N = 6 scalars.
  for (const ma of modes) {
    for (const mb of modes) {
      const [ga, a] = operand(8, 8, 0, ma), [gb, b] = operand(8, 8, 1, mb);
      out.push([`mm ${ma}${mb}`, ga.mm(gb), a.mm(b)]);
    }
  }
  const a = data([8, 8]), b6 = data([8, 6]);
  out.push(['mm scalar store', gpu(a).mm(gpu(b6)), a.mm(b6)]);

  // Reductions, each op with lanes along r and a shared-memory tree (R <= 128), with subgroup ops
  // (R > 128), and lanes along outputs (r strided, outputs adjacent). Then what is the same for
  // every op: several reduced dims, and two passes (partial values, and values with indices).
  const perOp: [string, Tensor, number][] = [['inner small', data([4, 16]), 1], ['inner large', data([2, 300]), 1], ['outer', data([300, 6]), 0]];
  for (const [name, x, d] of perOp) {
    const g = gpu(x);
    out.push([`sum ${name}`, g.sum(d), x.sum(d)], [`amax ${name}`, g.amax(d), x.amax(d)], [`amin ${name}`, g.amin(d), x.amin(d)]);
    out.push([`argmax ${name}`, g.argmax(d), x.argmax(d)], [`argmin ${name}`, g.argmin(d), x.argmin(d)]);
  }
  const x3 = data([3, 4, 5]), long = data([2, 5000]);
  out.push(['sum over dims 0 and 2', gpu(x3).sum([0, 2]), x3.sum([0, 2])]);
  out.push(['sum in two passes', gpu(long).sum(1), long.sum(1)], ['argmax in two passes', gpu(long).argmax(1), long.argmax(1)]);
  return out;
}

describe.skipIf(!available)('kernel variants', () => {
  const configs: KernelConfig[] = [];
  let before: KernelChoice = 'auto';

  afterAll(async () => {
    kernelOverrides.matmul = null;
    await torch.webgpu.init({ kernels: before });
  });

  it.each(['gpu', 'cpu', 'cpu-direct'] as const)('the workload under kernels=%s matches the CPU', async (setting) => {
    if (configs.length === 0) {
      before = torch.webgpu.kernels()!.choice;
      resetDispatchedVariants();
    }
    const kernels = setting === 'gpu' ? 'gpu' : 'cpu';
    await torch.webgpu.init({ kernels });
    kernelOverrides.matmul = setting === 'cpu-direct' ? DIRECT_MATMUL : null;
    try {
      const cfg = torch.webgpu.kernels()!;
      expect(cfg.family).toBe(kernels);
      configs.push(cfg);
      // Quarter-integer inputs: every product and sum here is exact in float32, so values must be equal
      // (ties in argmax/argmin too: the first index wins on both devices).
      for (const [what, got, want] of workload()) {
        expect(got.shape, what).toEqual(want.shape);
        expect(Array.from(await got.data()), what).toEqual(Array.from(want.dataSync()));
      }
    } finally {
      kernelOverrides.matmul = null;
    }
  });

  it('every variant the generators list was dispatched, and nothing else', () => {
    expect(configs.map((c) => c.family)).toEqual(['gpu', 'cpu', 'cpu']);
    const listed = kernelVariants(configs);
    // Every matmul kernel and both reduction trees are among them (the families differ in the matmul).
    expect(listed).toContain('matmul:tiled:vovk');
    expect(listed).toContain('matmul:direct:sksk');
    if (configs[1]!.matmul.kind === 'subgroup') expect(listed).toContain('matmul:subgroup:vkvo');
    expect(listed).toContain('reduce:argmax:outer:shared');
    if (configs[0]!.reduce.subgroups) expect(listed).toContain('reduce:sum:inner:subgroup');
    const ran = [...dispatchedVariants().keys()].sort();
    expect(listed.filter((v) => !ran.includes(v)), 'listed but never dispatched').toEqual([]);
    expect(ran.filter((v) => !listed.includes(v)), 'dispatched but not listed').toEqual([]);
  });
});
