/**
 * The conformance suite: written once, run on every available device. Forward values and
 * gradients come from real PyTorch (test/fixtures/ops.json), printed text from format.json.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { describeDevices } from './devices.js';
import { caseLabel as label, fixtureOps, type OpCase } from './fixture-ops.js';
import { addSuffixes, expectClose, fixtureDType, fixtureValues, fromFixture, loadFixture, type FixtureTensor } from './helpers.js';

interface FormatCase {
  note: string;
  tensor: FixtureTensor;
  requires_grad: boolean;
  str: string;
}

const opCases = loadFixture<OpCase[]>('ops.json');
const formatCases = loadFixture<FormatCase[]>('format.json');

const OPS = fixtureOps(torch);

describeDevices('conformance on %s', (device) => {
  describe('ops.json forward values', () => {
    opCases.forEach((c, i) => {
      it(label(c, i), async () => {
        const f = OPS[c.op];
        expect(f, `no mapping for fixture op ${c.op}`).toBeDefined();
        const out = f!(c.inputs.map((t) => fromFixture(t, device)), c.kwargs);
        expect(out.dtype).toBe(fixtureDType(c.out));
        await expectClose(out, c.out.shape, fixtureValues(c.out));
      });
    });
  });

  describe('ops.json gradients of (out * upstream).sum()', () => {
    opCases.forEach((c, i) => {
      if (!c.grads || !c.upstream) return;
      it(label(c, i), async () => {
        const inputs = c.inputs.map((t) => fromFixture(t, device, t.dtype === 'float32'));
        const out = OPS[c.op]!(inputs, c.kwargs);
        out.mul(fromFixture(c.upstream!, device)).sum().backward();
        const floats = inputs.filter((t) => t.dtype === 'float32');
        expect(floats.length).toBe(c.grads!.length);
        for (const [k, g] of c.grads!.entries()) {
          if (g === null) {
            expect(floats[k]!.grad, `grad of input ${k}`).toBeNull();
            continue;
          }
          expect(floats[k]!.grad, `grad of input ${k}`).not.toBeNull();
          await expectClose(floats[k]!.grad!, g.shape, fixtureValues(g), 1e-4, 1e-5);
        }
      });
    });
  });

  describe('format.json: str(tensor) text', () => {
    formatCases.forEach((c, i) => {
      it(`${i}: ${c.note}`, async () => {
        const t = fromFixture(c.tensor, device, c.requires_grad);
        if (device === 'cpu') {
          expect(String(t)).toBe(c.str);
          expect(t.toString()).toBe(c.str);
          expect(await t.format()).toBe(c.str);
        } else {
          // PyTorch puts device='webgpu:0' first among the suffixes, as it does for cuda:0.
          const rest = c.requires_grad ? ['requires_grad=True'] : [];
          const body = c.str.replace(/(,\s+requires_grad=True)?\)$/, '');
          const sized = body.match(/^(tensor\(\[\]), (size=\(.*\))$/);
          const want = sized ? addSuffixes(sized[1]!, ["device='webgpu:0'", sized[2]!, ...rest]) : addSuffixes(body, ["device='webgpu:0'", ...rest]);
          expect(await t.format()).toBe(want);
        }
      });
    });
  });

  describe('literal cases', () => {
    const opts = { device };
    it('seed scalars: [1] (op) [3]', async () => {
      const a = torch.tensor([1], opts), b = torch.tensor([3], opts);
      // 1/3 printed with 4 decimals
      expect(await a.div(b).format()).toContain('tensor([0.3333]');
      expect(await a.add(b).tolist()).toEqual([4]);
      expect(await a.sub(b).tolist()).toEqual([-2]);
    });
    it('dot: [1,2,3]·[4,5,6] = 4 + 10 + 18 = 32', async () => {
      expect(await torch.dot(torch.tensor([1, 2, 3], opts), torch.tensor([4, 5, 6], opts)).item()).toBe(32);
    });
    it('matmul 2x2: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]', async () => {
      const r = torch.matmul(torch.tensor([[1, 2], [3, 4]], opts), torch.tensor([[5, 6], [7, 8]], opts));
      expect(await r.tolist()).toEqual([[19, 22], [43, 50]]);
    });
    it('matmul cases: 1-D·2-D, 2-D·1-D, batched with broadcast batch dims', async () => {
      const v = torch.tensor([1, 2], opts);
      const m = torch.tensor([[1, 2, 3], [4, 5, 6]], opts);
      // [1,2]·m = [1+8, 2+10, 3+12]
      expect(await torch.matmul(v, m).tolist()).toEqual([9, 12, 15]);
      // m·[1,1,1] = row sums
      expect(await torch.matmul(m, torch.ones(3, opts)).tolist()).toEqual([6, 15]);
      // [2,1,2,2] x [3,2,2] broadcasts to [2,3,2,2]; identity times anything is itself
      const eye = torch.eye(2, opts).reshape(1, 1, 2, 2).expand(2, 1, 2, 2);
      const b = torch.arange(12, opts).float().reshape(3, 2, 2);
      const r = torch.matmul(eye, b);
      expect(r.shape).toEqual([2, 3, 2, 2]);
      expect(await r.select(0, 1).tolist()).toEqual(await b.tolist());
    });
    it('broadcast: [2,1] + [3] = [[1+10, 1+20, 1+30], [2+10, ...]]', async () => {
      const r = torch.tensor([[1], [2]], opts).add(torch.tensor([10, 20, 30], opts));
      expect(await r.tolist()).toEqual([[11, 21, 31], [12, 22, 32]]);
    });
    it('scalars on either side: 2 - x and 1 / x', async () => {
      const x = torch.tensor([1, 4], opts);
      expect(await torch.sub(2, x).tolist()).toEqual([1, -2]);
      expect(await torch.div(1, x).tolist()).toEqual([1, 0.25]);
    });
    it('type promotion: int + float → float32, int / int → float32, comparisons → bool', async () => {
      const i = torch.tensor([1, 2, 3], { ...opts, dtype: 'int32' });
      expect(i.add(torch.tensor([0.5, 0.5, 0.5], opts)).dtype).toBe('float32');
      expect(i.add(1).dtype).toBe('int32');
      expect(i.add(0.5).dtype).toBe('float32');
      const d = i.div(torch.tensor([2, 2, 2], { ...opts, dtype: 'int32' }));
      expect(d.dtype).toBe('float32');
      expect(await d.tolist()).toEqual([0.5, 1, 1.5]);
      const c = i.gt(1);
      expect(c.dtype).toBe('bool');
      expect(await c.tolist()).toEqual([false, true, true]);
      expect(i.sum().dtype).toBe('int32');
    });
    it('pow: a negative base with an integral exponent: (-2)^3 = -8, (-2)^2 = 4', async () => {
      expect(await torch.tensor([-2, -2], opts).pow(torch.tensor([3, 2], opts)).tolist()).toEqual([-8, 4]);
      expect(await torch.tensor([-2], opts).pow(3).tolist()).toEqual([-8]);
    });
    it('clamp ties: clamp(min=0) keeps 0, min > max gives max', async () => {
      expect(await torch.tensor([-1, 0, 2], opts).clamp({ min: 0 }).tolist()).toEqual([0, 0, 2]);
      expect(await torch.tensor([-1, 0, 2], opts).clamp(1, 0).tolist()).toEqual([0, 0, 0]);
    });
    it('maximum / minimum / where', async () => {
      const a = torch.tensor([1, 5, 3], opts), b = torch.tensor([4, 2, 3], opts);
      expect(await a.maximum(b).tolist()).toEqual([4, 5, 3]);
      expect(await torch.minimum(a, b).tolist()).toEqual([1, 2, 3]);
      expect(await torch.where(a.gt(b), a, b).tolist()).toEqual([4, 5, 3]);
      expect(await torch.where(a.gt(2), a, 0).tolist()).toEqual([0, 5, 3]);
    });
    it('reductions: sum/mean/amax/amin over dims, keepdim, negative dims', async () => {
      // x = [[0,1,2],[3,4,5]]
      const x = torch.arange(6, opts).float().reshape(2, 3);
      expect(await x.sum().item()).toBe(15);
      expect(await x.sum(0).tolist()).toEqual([3, 5, 7]);
      expect(await x.sum(-1, true).tolist()).toEqual([[3], [12]]);
      expect(await x.mean([0, 1]).item()).toBe(2.5);
      expect(await x.amax(1).tolist()).toEqual([2, 5]);
      expect(await x.amin({ dim: 0, keepdim: true }).tolist()).toEqual([[0, 1, 2]]);
      const { values, indices } = x.max(1);
      expect(await values.tolist()).toEqual([2, 5]);
      expect(await indices.tolist()).toEqual([2, 2]);
      expect(await x.min(0).indices.tolist()).toEqual([0, 0, 0]);
      expect(await x.max().item()).toBe(5);
    });
    it('views share storage and read correctly when strided', async () => {
      const x = torch.arange(12, opts).float().reshape(3, 4);
      const t = x.t();
      expect(t.isContiguous()).toBe(false);
      expect(await t.tolist()).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
      expect(await x.permute(1, 0).contiguous().reshape(-1).tolist()).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
      expect(await x.narrow(1, 1, 2).tolist()).toEqual([[1, 2], [5, 6], [9, 10]]);
      expect(await x.select(0, -1).tolist()).toEqual([8, 9, 10, 11]);
      expect(await x.slice(1, null, null, 2).tolist()).toEqual([[0, 2], [4, 6], [8, 10]]);
      expect(await x.unsqueeze(0).shape).toEqual([1, 3, 4]);
      expect(await x.reshape(1, 3, 4).squeeze().shape).toEqual([3, 4]);
      expect(await torch.tensor([1, 2], opts).unsqueeze(1).expand(2, 3).tolist()).toEqual([[1, 1, 1], [2, 2, 2]]);
      expect(await x.flatten().tolist()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await x.view(4, 3).select(1, 0).tolist()).toEqual([0, 3, 6, 9]);
      // writing through a view changes the base
      x.select(0, 0).fill_(-1);
      expect(await x.sum(1).tolist()).toEqual([-4, 22, 38]);
      // a transposed operand of an elementwise op is read in place
      expect(await x.t().add(x.t()).select(0, 1).tolist()).toEqual([-2, 10, 18]);
    });
    it('in-place ops: add_, sub_, mul_, div_, clamp_, zero_, fill_, copy_', async () => {
      const x = torch.tensor([1, 2, 3], opts);
      x.add_(1).mul_(2).sub_(torch.tensor([1, 1, 1], opts)).div_(2);
      // ((x + 1) * 2 - 1) / 2 = [1.5, 2.5, 3.5]
      expect(await x.tolist()).toEqual([1.5, 2.5, 3.5]);
      x.clamp_({ max: 3 });
      expect(await x.tolist()).toEqual([1.5, 2.5, 3]);
      x.copy_(torch.tensor([7], opts));
      expect(await x.tolist()).toEqual([7, 7, 7]);
      x.zero_();
      expect(await x.tolist()).toEqual([0, 0, 0]);
      x.fill_(2);
      expect(await x.sum().item()).toBe(6);
      const m = torch.zeros(2, 3, opts);
      m.t().add_(torch.ones(3, 2, opts));
      expect(await m.tolist()).toEqual([[1, 1, 1], [1, 1, 1]]);
    });
    it('creation: zeros, ones, full, arange, linspace, eye, *Like, dtypes', async () => {
      expect(await torch.zeros(2, 2, opts).tolist()).toEqual([[0, 0], [0, 0]]);
      expect(await torch.ones([3], opts).tolist()).toEqual([1, 1, 1]);
      expect(await torch.full([2], 7, opts).tolist()).toEqual([7, 7]);
      expect(await torch.arange(1, 7, 2, opts).tolist()).toEqual([1, 3, 5]);
      expect(torch.arange(3, opts).dtype).toBe('int32');
      expect(await torch.linspace(0, 1, 5, opts).tolist()).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(await torch.eye(2, 3, opts).tolist()).toEqual([[1, 0, 0], [0, 1, 0]]);
      const r = torch.randn(2, 3, opts);
      expect(torch.zerosLike(r).shape).toEqual([2, 3]);
      expect(await torch.onesLike(r).sum().item()).toBe(6);
      expect(await torch.fullLike(r, 2).sum().item()).toBe(12);
      expect(torch.randnLike(r).device).toBe(device);
      expect(torch.empty(4, opts).shape).toEqual([4]);
      expect(torch.tensor([true, false], opts).dtype).toBe('bool');
      expect(torch.tensor(new Int32Array([1, 2]), opts).dtype).toBe('int32');
      expect(await torch.tensor(5, opts).item()).toBe(5);
    });
    it('manualSeed makes rand/randn reproducible; randn is standard normal', async () => {
      torch.manualSeed(42);
      const a = Array.from(await torch.randn(1000, opts).data());
      const u = Array.from(await torch.rand(1000, opts).data());
      torch.manualSeed(42);
      const b = await torch.randn(1000, opts).data();
      expect(a).toEqual(Array.from(b));
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.abs(sd - 1)).toBeLessThan(0.1);
      expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u)).toBeLessThan(1);
    });
    it('randLike: rand of the input\'s shape, dtype and device, reproducible; ints and bools raise as in PyTorch', async () => {
      const x = torch.zeros([3, 4], opts);
      torch.manualSeed(7);
      const r = torch.randLike(x);
      expect([r.shape, r.dtype, r.device]).toEqual([[3, 4], 'float32', device]);
      const u = Array.from(await r.data());
      expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
      torch.manualSeed(7);
      expect(Array.from(await torch.rand([3, 4], opts).data())).toEqual(u);
      // PyTorch: torch.rand_like(torch.tensor([1, 2])) raises RuntimeError
      // "check_uniform_bounds" not implemented for 'Long'; with dtype=torch.float32 it is float32.
      const i = torch.tensor([1, 2], { ...opts, dtype: 'int32' });
      expect(() => torch.randLike(i)).toThrow(torch.RuntimeError);
      expect(() => torch.randLike(i)).toThrow(`"check_uniform_bounds" not implemented for 'Long'`);
      expect(torch.randLike(i, { dtype: 'float32' }).dtype).toBe('float32');
    });
    it('webgpu.emptyCache frees pooled buffers and leaves live tensors intact (a no-op without WebGPU use)', async () => {
      const keep = torch.tensor([1.5, -2, 3], opts);
      // Read before disposing: memory is bound when a kernel first writes it (WebGPU), and a tensor
      // disposed before its kernel ran never held any.
      for (let k = 0; k < 4; k++) {
        const t = torch.ones([256], opts).mul(k);
        await t.data();
        t.dispose();
      }
      await torch.webgpu.synchronize();
      const before = torch.webgpu.memoryStats();
      if (device === 'webgpu') expect(before.pooledBuffers).toBeGreaterThan(0);
      torch.webgpu.emptyCache();
      const after = torch.webgpu.memoryStats();
      // PyTorch's torch.cuda.empty_cache(): the cache is released, allocated memory is unchanged.
      expect([after.pooledBytes, after.pooledBuffers]).toEqual([0, 0]);
      expect([after.liveBytes, after.liveBuffers]).toEqual([before.liveBytes, before.liveBuffers]);
      expect(await keep.tolist()).toEqual([1.5, -2, 3]);
      expect(await keep.mul(2).tolist()).toEqual([3, -4, 6]);
      // Work still queued that reads memory released just before: emptyCache must not destroy it
      // first. Eager, so t's kernel is encoded (not yet submitted) before its memory is released.
      const eagerBefore = torch.isEager();
      torch.setEager(true);
      try {
        const x = torch.tensor([1, 2, 3, 4], opts);
        const t = x.add(1);
        const y = t.mul(2); // [4, 6, 8, 10]
        t.dispose();
        torch.webgpu.emptyCache();
        expect(await y.tolist()).toEqual([4, 6, 8, 10]);
      } finally {
        torch.setEager(eagerBefore);
      }
    });
    it('reading: item, tolist, data', async () => {
      const x = torch.tensor([[1, 2], [3, 4]], opts);
      expect(await x.tolist()).toEqual([[1, 2], [3, 4]]);
      expect(Array.from(await x.data())).toEqual([1, 2, 3, 4]);
      expect(await x.sum().item()).toBe(10);
      expect(await torch.tensor([true], opts).tolist()).toEqual([true]);
    });
  });
});
