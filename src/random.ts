/**
 * Counter-based random numbers: sample i of a draw is a pure function of (seed, counter + i), so the
 * CPU backend and the WGSL kernel (shaders/random.wgsl, same arithmetic in u32) produce the same
 * streams, and `manualSeed` makes every device reproducible.
 */

/** PCG's output hash of one 32-bit word (O'Neill's pcg_hash), in u32 arithmetic. */
export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> (((state >>> 28) + 4) >>> 0)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Two independent u32 words for sample `c` of stream `seed`. */
export function sampleWords(seed: number, c: number): [number, number] {
  const k = (c * 2) >>> 0;
  return [pcgHash((seed ^ pcgHash(k)) >>> 0), pcgHash((seed ^ pcgHash((k + 1) >>> 0)) >>> 0)];
}

/** Uniform in [0, 1) with 24 random bits. */
export function uniformAt(seed: number, c: number): number {
  return (sampleWords(seed, c)[0] >>> 8) / 16777216;
}

/** Standard normal by Box-Muller on two uniforms in (0, 1]. */
export function normalAt(seed: number, c: number): number {
  const [w1, w2] = sampleWords(seed, c);
  const u1 = ((w1 >>> 8) + 1) / 16777216;
  const u2 = (w2 >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** The global generator state that `manualSeed` resets. */
export const generator = { seed: 0x9e3779b9 >>> 0, counter: 0 };

/** Reserves `n` samples of the stream and returns the first counter. */
export function takeCounter(n: number): { seed: number; counter: number } {
  const counter = generator.counter;
  generator.counter = (generator.counter + n) % 4294967296;
  return { seed: generator.seed, counter };
}
