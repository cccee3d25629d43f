/**
 * What the seed's training loop costs the main thread, as issue 11 states its targets: the JS time to
 * record and submit one replayed step, and the share of garbage collection in a profile of the loop.
 *
 * For each device (webgpu when there is an adapter, then cpu) and each way of writing the loop —
 * `plain` (the seed as written: step tensors released by the collector) and `scope` (each step in
 * torch.scope(), released at once) — it runs the seed's step (forward, backward, two sub_, two zero_,
 * a loss read every 100 steps) for WARM steps, then STEPS timed steps, and prints per step:
 * - `js`: main-thread CPU time of the synchronous part of the step (recording, scheduling, encoding
 *   and submitting; not the waits for the device), from /proc/self/task/<pid>/schedstat on Linux
 *   (elsewhere, wall time of the synchronous part);
 * - `main`: main-thread CPU time of the whole loop (the waits' polling and the collector included);
 * - `gc`: the collector's share of a CPU profile of the timed steps (node:inspector), of all
 *   samples and of the busy (not idle) ones;
 * - the change of torch.webgpu.stats() per step (kernels, bind groups and buffers created, ...).
 *
 * Run: node bench/bench.mjs --script seed-js [webgpu|cpu ...]   (STEPS=n WARM=n, defaults 2000 and 600;
 * SAVE_PROFILE=1 writes each loop's CPU profile to /tmp/seed-<device>-<loop>.cpuprofile)
 * Run it alone on the machine: other processes' load shows up as time.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import * as torch from '../src/index.js';

/** This thread's CPU time in ns (Linux), or null where schedstat is not there. */
function threadCpu(): () => number {
  let fd = -1;
  try {
    fd = fs.openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
  } catch {
    return () => performance.now() * 1e6;
  }
  const buf = Buffer.alloc(64);
  return () => {
    const n = fs.readSync(fd, buf, 0, 64, 0);
    let v = 0;
    for (let i = 0; i < n && buf[i] !== 32; i++) v = v * 10 + (buf[i]! - 48);
    return v;
  };
}

interface ProfileNode { id: number; callFrame: { functionName: string } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** The collector's share of a profile: of all samples, and of the samples that are not idle. */
function gcShare(p: Profile): { all: number; busy: number } {
  const name = new Map(p.nodes.map((n) => [n.id, n.callFrame.functionName]));
  let total = 0, idle = 0, gc = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const f = name.get(id);
    if (f === '(idle)') idle += dt;
    if (f === '(garbage collector)') gc += dt;
  });
  return { all: gc / total, busy: gc / Math.max(1, total - idle) };
}

function post<T>(s: inspector.Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r as T))));
}

async function loop(device: torch.Device, mode: 'plain' | 'scope', steps: number, warm: number, cpu: () => number): Promise<string> {
  torch.manualSeed(0);
  const x = torch.randn(64, 1000, { device }), y = torch.randn(64, 10, { device });
  const w1 = torch.randn(1000, 100, { device, requiresGrad: true });
  const w2 = torch.randn(100, 10, { device, requiresGrad: true });
  const step = (): torch.Tensor => {
    const loss = x.mm(w1).clamp({ min: 0 }).mm(w2).sub(y).pow(2).sum();
    loss.backward();
    torch.noGrad(() => {
      w1.sub_(w1.grad!.mul(1e-6));
      w2.sub_(w2.grad!.mul(1e-6));
      w1.grad!.zero_();
      w2.grad!.zero_();
    });
    return loss;
  };
  let js = 0;
  let last = NaN;
  const run = async (n: number) => {
    for (let t = 1; t <= n; t++) {
      const read = t % 100 === 0;
      const c0 = cpu();
      const loss = mode === 'scope' ? torch.scope(() => (read ? step() : (step(), undefined))) : step();
      js += cpu() - c0;
      if (read) last = await loss!.item();
    }
  };
  await run(warm);
  js = 0;
  const gpu = device === 'webgpu';
  const s0 = gpu ? torch.webgpu.stats() : null;
  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  const m0 = cpu(), t0 = performance.now();
  await run(steps);
  const m1 = cpu(), t1 = performance.now();
  const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop');
  session.disconnect();
  if (process.env.SAVE_PROFILE) fs.writeFileSync(`/tmp/seed-${device}-${mode}.cpuprofile`, JSON.stringify(profile));
  const gc = gcShare(profile);
  const per = (v: number) => (v / steps).toFixed(2);
  let counts = '';
  if (s0) {
    const s1 = torch.webgpu.stats();
    counts = ` kernels ${per(s1.kernels - s0.kernels)}, bind groups made ${per(s1.bindGroups - s0.bindGroups)}, buffers made ${per(s1.buffersCreated - s0.buffersCreated)}, submits ${per(s1.submits - s0.submits)}`;
  }
  for (const t of [x, y, w1, w2]) t.dispose();
  return `${device.padEnd(6)} ${mode.padEnd(5)} js ${(js / 1e6 / steps).toFixed(3)} ms/step, main ${((m1 - m0) / 1e6 / steps).toFixed(3)}, wall ${((t1 - t0) / steps).toFixed(3)}; ` +
    `gc ${(100 * gc.all).toFixed(1)}% of samples (${(100 * gc.busy).toFixed(1)}% of busy);${counts}; loss ${last.toPrecision(6)}`.replace(";;", ";");
}

export async function main(args: string[]): Promise<number> {
  const steps = Number(process.env.STEPS ?? 2000), warm = Number(process.env.WARM ?? 600);
  const devices = (args.length ? args : ['webgpu', 'cpu']) as torch.Device[];
  const cpu = threadCpu();
  for (const device of devices) {
    if (device === 'webgpu' && !(await torch.webgpu.isAvailable())) {
      console.log('webgpu: no adapter, skipped');
      continue;
    }
    for (const mode of ['plain', 'scope'] as const) console.log(await loop(device, mode, steps, warm, cpu));
  }
  return 0;
}
