/**
 * Finding a WebGPU device: `navigator.gpu` where the platform has it (browsers, Deno), else Dawn from
 * the `webgpu` npm package, loaded with a dynamic import only in Node so that browser bundles and
 * CPU-only installs never load it.
 */
import { installDawnPacing } from './dawn-pacing.js';
import { withDawnNoticesFiltered } from './dawn-stderr.js';

/** What the backend needs to know about the device it got. */
export interface DeviceInfo {
  readonly device: GPUDevice;
  readonly adapterInfo: AdapterInfo;
  /** The device's limits (the adapter's own, requested in full). */
  readonly limits: GPUSupportedLimits;
  /** Subgroup ops usable in reductions: the 'subgroups' feature plus the subgroup_id builtin. */
  readonly subgroups: boolean;
  readonly subgroupMinSize: number;
}

/** The adapter as `torch.webgpu.adapterInfo()` reports it. */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  readonly features: readonly string[];
}

// GOTCHA: Dawn's GPU object (what create() returns) must stay reachable for the life of the
// process; if it is collected, Dawn crashes later. Module scope keeps it.
let dawnGpu: GPU | null = null;

const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/** The GPU entry point of this platform, or null (with the reason) when there is none. */
async function findGpu(): Promise<GPU | string> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) return 'navigator.gpu is not available in this environment';
  if (dawnGpu) return dawnGpu;
  // A computed specifier keeps bundlers from resolving (and inlining) the native package.
  const name = 'webgpu';
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (e) {
    return `the 'webgpu' npm package could not be loaded (${(e as Error).message})`;
  }
  // GPUBufferUsage, GPUMapMode, ... as a browser defines them; never overwrite existing globals.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const flags = (process.env.WGTORCH_DAWN_FLAGS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    dawnGpu = mod.create(flags);
  } catch (e) {
    return `webgpu create(${JSON.stringify(flags)}) failed: ${(e as Error).message}`;
  }
  return dawnGpu;
}

/** The limits wgtorch's kernels care about; requested at the adapter's own values, not the defaults. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
] as const;

/** Requests an adapter and a device; returns the reason as a string when there is none. */
export async function requestDevice(): Promise<DeviceInfo | string> {
  const gpu = await findGpu();
  if (typeof gpu === 'string') return gpu;
  // Dawn is the WebGPU of Node, however the GPU object was found (WGTORCH_DAWN_PACING=0: Dawn's own polling)
  if (isNode() && process.env.WGTORCH_DAWN_PACING !== '0') installDawnPacing();
  let adapter: GPUAdapter | null = null;
  try {
    const request = () => gpu.requestAdapter({ powerPreference: 'high-performance' });
    // Dawn enumerates its adapters inside this call and prints lavapipe's limit notices on fd 2.
    adapter = await (gpu === dawnGpu ? withDawnNoticesFiltered(request) : request());
  } catch (e) {
    return `requestAdapter() failed: ${(e as Error).message}`;
  }
  if (!adapter) {
    return isNode()
      ? 'requestAdapter() returned null: no WebGPU adapter (is a Vulkan driver such as Mesa lavapipe installed? see the README)'
      : 'requestAdapter() returned null: this browser offers no WebGPU adapter (is WebGPU enabled, and a GPU or software adapter available?)';
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[k];
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const hasSubgroups = adapter.features.has('subgroups');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'wgtorch',
      requiredLimits,
      requiredFeatures: hasSubgroups ? (['subgroups'] as GPUFeatureName[]) : [],
    });
  } catch (e) {
    return `requestDevice() failed: ${(e as Error).message}`;
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const extra = info as (GPUAdapterInfo & { subgroupMinSize?: number; isFallbackAdapter?: boolean }) | undefined;
  const wgslFeatures = (gpu as GPU & { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  const subgroupMinSize = extra?.subgroupMinSize ?? 4;
  return {
    device,
    limits: device.limits,
    subgroups: hasSubgroups && !!wgslFeatures?.has('subgroup_id') && subgroupMinSize >= 4,
    subgroupMinSize,
    adapterInfo: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: extra?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      features: [...device.features].sort(),
    },
  };
}
