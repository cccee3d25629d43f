// One JS peer of the bench (TensorFlow.js or jax-js), run by bench/peers.ts in a child process:
//   node bench/peers/peers.mjs <dir> tfjs|jax
// <dir> holds the inputs bench/peers.ts wrote (raw float32 files and meta.json). Each result is
// one JSON line on stdout: {peer, backend, case, samples (ms), outputs}; a matmul's product is
// written to <dir>/<peer>-<backend>-matmul.f32 for the float64 check, the net's losses travel in
// the line. Nothing here judges correctness: bench/peers.ts does, against the same references it
// applies to wgtorch. Installed apart from the package: `cd bench/peers && npm install`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [dir, peer] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const load = (name) => {
  const b = fs.readFileSync(path.join(dir, `${name}.f32`)); // small files share a pooled ArrayBuffer: copy out
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const emit = (r) => console.log(JSON.stringify({ peer, ...r }));
const skip = (backend, c, why) => emit({ backend, case: c, skipped: why });

// Both peers read navigator (jax-js at import: userAgent, hardwareConcurrency; WebGPU: navigator.gpu).
// Node 20 has no navigator; Node 21+ has one without gpu.
if (typeof globalThis.navigator === 'undefined') {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.version}`, hardwareConcurrency: os.cpus().length }, configurable: true });
}

/** navigator.gpu from Dawn's `webgpu` package (the repo's optional dependency), when an adapter exists. */
async function installWebGPU() {
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'no adapter';
    Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
    return null;
  } catch (e) {
    return `webgpu package: ${e.message.split('\n')[0]}`;
  }
}

/** Runs `once` (which ends with a read) warm times untimed, then reps times; returns the times in ms. */
async function time(once, warm, reps) {
  for (let i = 0; i < warm; i++) await once();
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await once();
    samples.push(performance.now() - t0);
  }
  return samples;
}

const { n: N, steps, warmSteps, reps, lr, dims } = meta;
const A = load('a'), B = load('b');
const init = { x: load('x'), y: load('y'), w1: load('w1'), w2: load('w2') };
const writeProduct = (backend, c) => fs.writeFileSync(path.join(dir, `${peer}-${backend}-matmul.f32`), Buffer.from(c.buffer, c.byteOffset, c.byteLength));
const gpuProblem = meta.webgpu ? await installWebGPU() : 'not asked for';

async function tfjs() {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (!gpuProblem) await import('@tensorflow/tfjs-backend-webgpu');
  for (const backend of ['cpu', 'wasm', 'webgpu']) {
    if (backend === 'webgpu' && gpuProblem) {
      skip(backend, 'matmul', `webgpu: ${gpuProblem}`);
      continue;
    }
    if (!(await tf.setBackend(backend))) {
      skip(backend, 'matmul', `tf.setBackend('${backend}') failed`);
      continue;
    }
    await tf.ready();
    const a = tf.tensor2d(A, [N, N]), b = tf.tensor2d(B, [N, N]);
    let c = null;
    const samples = await time(async () => {
      c?.dispose();
      c = tf.matMul(a, b);
      await c.data();
    }, 2, reps);
    writeProduct(backend, await c.data());
    emit({ backend, case: 'matmul', samples });
    tf.dispose([a, b, c]);

    // The seed's net: relu(x·w1)·w2, squared error, SGD — the step PyTorch's tutorial writes.
    const x = tf.tensor2d(init.x, [dims.B, dims.I]), y = tf.tensor2d(init.y, [dims.B, dims.O]);
    const run = async (n) => {
      const w1 = tf.variable(tf.tensor2d(init.w1, [dims.I, dims.H])), w2 = tf.variable(tf.tensor2d(init.w2, [dims.H, dims.O]));
      const opt = tf.train.sgd(lr);
      const losses = [];
      for (let t = 1; t <= n; t++) {
        const loss = opt.minimize(() => tf.sum(tf.square(tf.sub(tf.matMul(tf.relu(tf.matMul(x, w1)), w2), y))), true);
        if (t === Math.min(n, 100) || t === n) losses.push([t, (await loss.data())[0]]);
        loss.dispose();
      }
      tf.dispose([w1, w2, opt]);
      return losses;
    };
    await run(warmSteps);
    const t0 = performance.now();
    const losses = await run(steps);
    emit({ backend, case: 'net', samples: [performance.now() - t0], losses });
    tf.dispose([x, y]);
  }
}

async function jax() {
  const jx = await import('@jax-js/jax');
  const { numpy: np, jit, valueAndGrad, init: initDevices, defaultDevice } = jx;
  const devices = await initDevices();
  for (const backend of ['wasm', 'webgpu']) {
    if (!devices.includes(backend)) {
      skip(backend, 'matmul', backend === 'webgpu' && gpuProblem ? `webgpu: ${gpuProblem}` : `not among jax-js devices (${devices.join(', ')})`);
      continue;
    }
    defaultDevice(backend);
    const a = np.array(A).reshape([N, N]), b = np.array(B).reshape([N, N]);
    let c = null;
    const samples = await time(async () => {
      c = await np.matmul(a.ref, b.ref).data(); // data() consumes the product
    }, 2, reps);
    writeProduct(backend, c);
    emit({ backend, case: 'matmul', samples, threads: backend === 'wasm' ? `navigator.hardwareConcurrency = ${navigator.hardwareConcurrency}` : undefined });
    a.dispose();
    b.dispose();

    // The whole step under jit: forward, gradient (reference-counted arguments: .ref to reuse) and update.
    const lossFn = (w1, w2, x, y) => np.square(np.matmul(np.maximum(np.matmul(x, w1), 0), w2).sub(y)).sum();
    const step = jit((w1, w2, x, y) => {
      const [loss, [g1, g2]] = valueAndGrad(lossFn, { argnums: [0, 1] })(w1.ref, w2.ref, x, y);
      return [loss, w1.sub(g1.mul(lr)), w2.sub(g2.mul(lr))];
    });
    const x = np.array(init.x).reshape([dims.B, dims.I]), y = np.array(init.y).reshape([dims.B, dims.O]);
    const run = async (n) => {
      let w1 = np.array(init.w1).reshape([dims.I, dims.H]), w2 = np.array(init.w2).reshape([dims.H, dims.O]);
      const losses = [];
      for (let t = 1; t <= n; t++) {
        const [loss, n1, n2] = step(w1, w2, x.ref, y.ref);
        w1 = n1;
        w2 = n2;
        if (t === Math.min(n, 100) || t === n) losses.push([t, (await loss.data())[0]]);
        else loss.dispose();
      }
      w1.dispose();
      w2.dispose();
      return losses;
    };
    await run(warmSteps);
    const t0 = performance.now();
    const losses = await run(steps);
    emit({ backend, case: 'net', samples: [performance.now() - t0], losses });
    x.dispose();
    y.dispose();
  }
}

if (peer === 'tfjs') await tfjs();
else if (peer === 'jax') await jax();
else {
  console.error(`unknown peer '${peer}' (tfjs or jax)`);
  process.exitCode = 2;
}
// Dawn and worker pools can keep the event loop alive; the results are out.
process.exit(process.exitCode ?? 0);
