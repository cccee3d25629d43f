#!/usr/bin/env node
// Probe the Dawn (`webgpu` npm package) WebGPU path in Node.
//
//   node scripts/probe-webgpu.mjs            # human-readable report
//   node scripts/probe-webgpu.mjs --json     # one JSON object on stdout
//
// Extra Dawn options can be passed via WGTORCH_DAWN_FLAGS (comma-separated,
// e.g. "backend=vulkan" or "adapter=llvmpipe"); they are handed to create().
// Exit codes: 0 = WebGPU works, 2 = WebGPU not available (no package / no
// adapter / no device), 1 = WebGPU present but the compute check failed.
const json = process.argv.includes('--json');
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);
const report = { ok: false, available: false, timings: {} };
const log = (...a) => { if (!json) console.log(...a); };

// GOTCHA: the object returned by create() must stay strongly reachable for as
// long as any adapter/device/buffer from it is in use. If it is only a local
// that V8 considers dead (e.g. unused after requestAdapter()), a GC collects
// it and Dawn crashes later (SIGSEGV / SIGFPE / glibc tpp.c assertion). Hence
// module scope. Holding it here does not keep the process alive.
let gpu;

function finish(code) {
  report.timings.totalMs = ms();
  if (json) console.log(JSON.stringify(report, null, 2));
  else log(`total ${report.timings.totalMs} ms -> exit ${code}`);
  process.exitCode = code;
}

let mod;
try {
  mod = await import('webgpu');
} catch (e) {
  report.error = `import('webgpu') failed: ${e.message}`;
  log(report.error);
  finish(2);
}

if (mod) await main(mod);

async function main({ create, globals }) {
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, GPUShaderStage, ...
  report.timings.importMs = ms();

  const flags = (process.env.WGTORCH_DAWN_FLAGS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    gpu = create(flags);
  } catch (e) {
    report.error = `create(${JSON.stringify(flags)}) threw: ${e.message}`;
    log(report.error);
    return finish(2);
  }
  report.timings.createMs = ms();

  let adapter = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    report.error = `requestAdapter threw: ${e.message}`;
  }
  report.timings.adapterMs = ms();
  if (!adapter) {
    report.error ??= 'requestAdapter() returned null (no WebGPU adapter; is a Vulkan ICD installed?)';
    log(report.error);
    return finish(2);
  }

  const info = adapter.info ?? {};
  report.adapter = {
    vendor: info.vendor, architecture: info.architecture, device: info.device,
    description: info.description, isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
  };
  const limitNames = [
    'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension',
    'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage',
  ];
  report.limits = Object.fromEntries(limitNames.map((k) => [k, adapter.limits[k]]));
  report.features = [...adapter.features].sort();
  log('adapter', report.adapter);
  log('limits', report.limits);
  log('features', report.features.join(' '));
  log(`subgroups: ${adapter.features.has('subgroups')}  shader-f16: ${adapter.features.has('shader-f16')}`);

  // Request a device with the adapter's own (maximum) limits.
  const requiredLimits = {};
  for (const k in adapter.limits) requiredLimits[k] = adapter.limits[k];
  let device;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    report.error = `requestDevice threw: ${e.message}`;
    log(report.error);
    return finish(2);
  }
  report.timings.deviceMs = ms();
  log(`device ready after ${report.timings.deviceMs} ms`);
  device.addEventListener?.('uncapturederror', (ev) => console.error('uncaptured GPU error:', ev.error?.message));

  try {
    const n = 1 << 20;
    const a = new Float32Array(n), b = new Float32Array(n);
    for (let i = 0; i < n; i++) { a[i] = i; b[i] = 2 * i + 0.5; }
    const bytes = n * 4;
    const mk = (usage, data) => {
      const buf = device.createBuffer({ size: bytes, usage, mappedAtCreation: !!data });
      if (data) { new Float32Array(buf.getMappedRange()).set(data); buf.unmap(); }
      return buf;
    };
    const S = GPUBufferUsage.STORAGE;
    const bufA = mk(S, a), bufB = mk(S, b);
    const bufC = mk(S | GPUBufferUsage.COPY_SRC);
    const read = mk(GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const module = device.createShaderModule({
      code: /* wgsl */ `
        @group(0) @binding(0) var<storage, read> a: array<f32>;
        @group(0) @binding(1) var<storage, read> b: array<f32>;
        @group(0) @binding(2) var<storage, read_write> c: array<f32>;
        @compute @workgroup_size(256)
        fn main(@builtin(global_invocation_id) id: vec3u) {
          let i = id.x;
          if (i < arrayLength(&c)) { c[i] = a[i] + b[i]; }
        }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [bufA, bufB, bufC].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 256));
    pass.end();
    enc.copyBufferToBuffer(bufC, 0, read, 0, bytes);
    const tk = performance.now();
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    report.timings.computeMs = Math.round(performance.now() - tk);
    const c = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    let bad = 0;
    for (let i = 0; i < n; i++) if (c[i] !== a[i] + b[i]) bad++;
    report.compute = { n, mismatches: bad, sample: [c[0], c[1], c[n - 1]] };
    log(`add 1M floats: ${bad === 0 ? 'OK' : `${bad} mismatches`} (${report.timings.computeMs} ms submit+readback)`);
    report.available = true;
    report.ok = bad === 0;
  } catch (e) {
    report.error = `compute check failed: ${e.message}`;
    log(report.error);
  }

  // device.lost resolves with reason 'destroyed' on destroy().
  const lost = device.lost.then((i) => i.reason);
  device.destroy();
  report.lostReason = await lost;
  finish(report.ok ? 0 : 1);
}
