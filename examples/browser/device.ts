/**
 * Device selection for the browser pages, as the seed does it (`cuda if available else cpu`), plus
 * the reason when it falls back to the CPU, and the page-level switches used by the tests.
 */
import * as torch from 'wgtorch';

export interface Picked {
  device: torch.Device;
  /** "google swiftshader (fallback adapter)" and the like; null on the CPU. */
  adapter: string | null;
  /** Why the CPU is used; null on WebGPU. */
  fallbackReason: string | null;
}

/**
 * Picks 'webgpu' when `navigator.gpu` gives an adapter and a device, else 'cpu' with the reason.
 * Query switches: `?device=cpu` forces the CPU; `?nogpu=1` hides navigator.gpu first, as in a
 * browser without WebGPU.
 */
export async function pickDevice(params: URLSearchParams): Promise<Picked> {
  if (params.get('nogpu') === '1') Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  if (params.get('device') === 'cpu') return { device: 'cpu', adapter: null, fallbackReason: '?device=cpu was given' };
  if (await torch.webgpu.isAvailable()) return { device: 'webgpu', adapter: describeAdapter(), fallbackReason: null };
  // isAvailable() never throws; init() says why (and tries once more).
  try {
    await torch.webgpu.init();
    return { device: 'webgpu', adapter: describeAdapter(), fallbackReason: null };
  } catch (e) {
    return { device: 'cpu', adapter: null, fallbackReason: String((e as Error).message ?? e).replace(/^WebGPU is not available: /, '') };
  }
}

function describeAdapter(): string {
  const i = torch.webgpu.adapterInfo();
  if (!i) return 'unknown adapter';
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return i.isFallbackAdapter ? `${name} (software fallback adapter)` : name;
}

/** Lets the browser paint and handle input: a macrotask, so pending events run first. */
export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** An error as the page shows it: name, message, and the first frames of the stack. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 4).join('\n');
    return `${e.name}: ${e.message}${frames ? `\n${frames}` : ''}`;
  }
  return String(e);
}
