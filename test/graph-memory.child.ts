/**
 * Run by graph-memory.test.ts in a child Node started with --expose-gc: builds graphs, drops every
 * intermediate the program holds, collects, and reports which intermediates are still reachable.
 * A node keeps only what its gradient rule saved, so inputs of ops must be collectable.
 */
import * as torch from '../src/index.js';
import type { Device, Tensor } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc!;
const settle = () => new Promise((r) => setTimeout(r, 0));

export async function main(device: Device): Promise<Record<string, unknown>> {
  if (device === 'webgpu' && !(await torch.webgpu.isAvailable())) throw new Error('no WebGPU adapter in the child process');
  const x = torch.randn([8, 8], { device, requiresGrad: true });
  const w = torch.randn([8, 8], { device, requiresGrad: true });
  const refs: Record<string, WeakRef<Tensor>> = {};
  const build = () => {
    // None of these is saved by a later rule: mul by a number, add of a number, expand, transpose,
    // sum and clamp's input after it is used by sum only.
    const a = x.mul(2);
    const b = a.add(1);
    const t = b.t();
    const e = t.unsqueeze(0).expand(2, 8, 8);
    const s = e.sum(0);
    const y = s.mm(w); // saves s and w: s is kept, by design
    const z = y.sigmoid(); // saves its output z
    refs.a = new WeakRef(a);
    refs.b = new WeakRef(b);
    refs.t = new WeakRef(t);
    refs.e = new WeakRef(e);
    refs.s = new WeakRef(s);
    refs.y = new WeakRef(y);
    return z.sum();
  };
  const loss = build();
  await settle();
  gc();
  await settle();
  gc();
  const alive = Object.fromEntries(Object.entries(refs).map(([k, r]) => [k, r.deref() !== undefined]));
  loss.backward();
  // d/dx: the graph still works after its unsaved intermediates were collected
  return { alive, gradShape: x.grad!.shape, gradFinite: Array.from(await x.grad!.data()).every(Number.isFinite) };
}
