/**
 * Which kernels the WebGPU backend generates: the one place that turns (the adapter, the user's
 * choice) into kernel families, tile and workgroup sizes and subgroup use. 'auto' picks by adapter:
 * a CPU-backed adapter (lavapipe, SwiftShader) gets the 'cpu' family, anything else the 'gpu' one.
 * `WGTORCH_KERNELS=gpu` or `torch.webgpu.init({ kernels: 'gpu' })` makes a software adapter run
 * exactly what a discrete GPU runs (so CI tests those kernels); 'cpu' does the opposite on a GPU
 * (with the direct matmul: the subgroup one is kept to CPU adapters).
 *
 * Generators also report here which variant each dispatch was (`countVariant`), and declare every
 * variant they can produce (`declareVariants`), so a test can check that each one is exercised.
 */
import { ValueError } from '../../errors.js';

/** The user's switch: 'auto' chooses by adapter. */
export type KernelChoice = 'auto' | 'gpu' | 'cpu';
export const KERNEL_CHOICES = ['auto', 'gpu', 'cpu'] as const satisfies readonly KernelChoice[];

/** What the choice depends on: facts about the adapter. */
export interface AdapterTraits {
  /** The adapter runs on the CPU (a fallback adapter such as lavapipe or SwiftShader). */
  readonly cpuAdapter: boolean;
  /** Subgroup ops are available (see device.ts). */
  readonly subgroups: boolean;
  /** The fewest lanes a subgroup has on this adapter (meaningful where `subgroups`). */
  readonly subgroupMinSize: number;
}

/** Tile shape of the tiled matmul. TM and TN are multiples of 4 (vec4 accumulators along N, vec4 reads of A along M). */
export interface MatmulTile {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/** Block shape of the direct matmul: WGX x WGY invocations of TM x TN outputs each. */
export interface MatmulDirect {
  WGX: number;
  WGY: number;
  TM: number;
  TN: number;
}

/** Block shape of the subgroup matmul: a workgroup is one subgroup of SG lanes, TM rows x SG*TN columns; each lane owns TN columns. */
export interface MatmulSubgroup {
  SG: number;
  TM: number;
  TN: number;
}

/**
 * The matmul kernel: 'tiled' stages operand tiles in workgroup memory (GPUs); 'direct' has each
 * invocation read its block through the caches (CPU adapters, where workgroup barriers are
 * expensive); 'subgroup' is the direct kernel with the A values a block needs loaded once, spread
 * over the lanes, and shared by subgroupBroadcast (CPU adapters with subgroup ops: there every
 * per-invocation load is a scalar loop over the SIMD lanes, a broadcast a register shuffle;
 * measurements in bench/NOTES.md). `vec4` allows vec4 loads and stores where aligned.
 */
export type MatmulKernel =
  | { kind: 'tiled'; tile: MatmulTile; vec4: boolean }
  | { kind: 'direct'; block: MatmulDirect; vec4: boolean }
  | { kind: 'subgroup'; block: MatmulSubgroup; vec4: boolean };

/** The 'cpu' family's matmul where the subgroup one is not used (no subgroup ops of >= 8 lanes, or not a CPU adapter). */
export const DIRECT_MATMUL: MatmulKernel = { kind: 'direct', block: { WGX: 4, WGY: 4, TM: 8, TN: 8 }, vec4: true };

/** Reduction settings: invocations per workgroup, elements one invocation folds per pass, subgroup ops. */
export interface ReduceKernel {
  workgroupSize: number;
  itemsMax: number;
  subgroups: boolean;
}

/** Everything the generators read to decide what to generate. */
export interface KernelConfig {
  /** The switch as set. */
  readonly choice: KernelChoice;
  /** The family it resolved to on this adapter. */
  readonly family: 'gpu' | 'cpu';
  readonly matmul: MatmulKernel;
  readonly reduce: ReduceKernel;
}

/**
 * The kernel config for an adapter and a choice. The families differ in the matmul today; the
 * reductions have one set of settings for both, with subgroup ops wherever the adapter has them.
 */
export function kernelConfig(adapter: AdapterTraits, choice: KernelChoice): KernelConfig {
  const family = choice === 'auto' ? (adapter.cpuAdapter ? 'cpu' : 'gpu') : choice;
  // The subgroup matmul is measured on lavapipe only, and takes a workgroup of SG lanes to be one
  // subgroup with lane ids 0..SG-1: CPU adapters whose subgroups have at least SG lanes.
  const SG = 8;
  const subgroupMatmul = adapter.cpuAdapter && adapter.subgroups && adapter.subgroupMinSize >= SG;
  const matmul: MatmulKernel =
    family === 'gpu'
      ? { kind: 'tiled', tile: { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, vec4: true }
      : subgroupMatmul
        ? { kind: 'subgroup', block: { SG, TM: 32, TN: 4 }, vec4: true }
        : DIRECT_MATMUL;
  return { choice, family, matmul, reduce: { workgroupSize: 256, itemsMax: 16, subgroups: adapter.subgroups } };
}

/** Whether an adapter is CPU-backed, from what it says about itself. */
export function isCpuAdapter(info: { isFallbackAdapter: boolean; architecture: string; device: string; description: string }): boolean {
  return info.isFallbackAdapter || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`);
}

/** Checks a choice given by the user (an option or WGTORCH_KERNELS, named by `what`). */
export function parseKernelChoice(v: unknown, what: string): KernelChoice {
  if ((KERNEL_CHOICES as readonly unknown[]).includes(v)) return v as KernelChoice;
  throw new ValueError(`${what} must be one of ${KERNEL_CHOICES.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(v)}`);
}

const env = (k: string): string | undefined => (typeof process !== 'undefined' ? process.env?.[k] : undefined);

let choice: KernelChoice | null = null;

/** The current choice: as last set, else WGTORCH_KERNELS, else 'auto'. Throws ValueError on a bad WGTORCH_KERNELS. */
export function kernelChoice(): KernelChoice {
  choice ??= parseKernelChoice(env('WGTORCH_KERNELS') ?? 'auto', 'WGTORCH_KERNELS');
  return choice;
}

/** Sets the choice for every later launch (pipelines are cached per variant, so switching is cheap). */
export function setKernelChoice(c: KernelChoice): void {
  choice = parseKernelChoice(c, 'kernels');
}

/**
 * Settings forced over the choice's, for benchmarks (bench/matmul-variants.ts) and for tests of a
 * setting no family picks on this adapter (reductions without subgroup ops; forcing them on where the
 * adapter lacks them is invalid). Restore to null.
 */
export const kernelOverrides: { matmul: MatmulKernel | null; reduce: Partial<ReduceKernel> | null } = { matmul: null, reduce: null };

const cache = new WeakMap<AdapterTraits, KernelConfig>();

/** The config a generator uses for a launch on `ctx`'s adapter under the current choice. */
export function kernelsFor(ctx: AdapterTraits): KernelConfig {
  const c = kernelChoice();
  let cfg = cache.get(ctx);
  if (!cfg || cfg.choice !== c) cache.set(ctx, (cfg = kernelConfig(ctx, c)));
  const o = kernelOverrides;
  return o.matmul || o.reduce ? { ...cfg, matmul: o.matmul ?? cfg.matmul, reduce: { ...cfg.reduce, ...o.reduce } } : cfg;
}

// ---- variants: what each generator can produce, and what ran ----------------------------------

/** A generator's list of every variant it can produce under a config (derived from its choosing code). */
export type VariantLister = (cfg: KernelConfig) => string[];

const listers: VariantLister[] = [];
/** Dispatches per variant in this process. */
const dispatched = new Map<string, number>();

/** Called once by each generator module: how to list its variants. */
export function declareVariants(lister: VariantLister): void {
  listers.push(lister);
}

/**
 * Every variant the backend can generate under these configs (give both families' configs of an
 * adapter for all it can run there), sorted.
 */
export function kernelVariants(configs: readonly KernelConfig[]): string[] {
  const all = new Set<string>();
  for (const cfg of configs) for (const l of listers) for (const v of l(cfg)) all.add(v);
  return [...all].sort();
}

/** Records that a dispatch ran these variants. */
export function countVariant(...names: string[]): void {
  for (const n of names) dispatched.set(n, (dispatched.get(n) ?? 0) + 1);
}

/** Dispatches per variant since the process started (or the last reset). */
export function dispatchedVariants(): ReadonlyMap<string, number> {
  return dispatched;
}

/** Forgets the dispatches counted so far. */
export function resetDispatchedVariants(): void {
  dispatched.clear();
}
