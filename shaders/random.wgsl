// Counter-based random numbers, the same u32 arithmetic as src/random.ts: sample c of stream `seed`
// is a pure function of (seed, c), so CPU and WebGPU draw the same values after manualSeed.

fn wg_pcg(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn wg_words(seed: u32, c: u32) -> vec2<u32> {
  let k = c * 2u;
  return vec2<u32>(wg_pcg(seed ^ wg_pcg(k)), wg_pcg(seed ^ wg_pcg(k + 1u)));
}

// Uniform in [0, 1) with 24 random bits (exact in f32, so equal to the CPU value).
fn wg_uniform(seed: u32, c: u32) -> f32 {
  return f32(wg_words(seed, c).x >> 8u) / 16777216.0;
}

// ln(u) for u in (0, 1]. Near 1 the builtin log only promises an absolute error of 2^-21, which
// sqrt(-2 ln u) would blow up; there ln(1 - t) = -2 atanh(t / (2 - t)) keeps full relative precision
// (t = 1 - u is exact because u has 24 bits).
fn wg_ln_unit(u: f32) -> f32 {
  if (u < 0.5) {
    return log(u);
  }
  let t = 1.0 - u;
  let z = t / (2.0 - t);
  let z2 = z * z;
  // z <= 1/3: the odd series to z^17 is below f32 rounding.
  var s = 1.0 / 17.0;
  s = s * z2 + 1.0 / 15.0;
  s = s * z2 + 1.0 / 13.0;
  s = s * z2 + 1.0 / 11.0;
  s = s * z2 + 1.0 / 9.0;
  s = s * z2 + 1.0 / 7.0;
  s = s * z2 + 1.0 / 5.0;
  s = s * z2 + 1.0 / 3.0;
  s = s * z2 + 1.0;
  return -2.0 * z * s;
}

// cos(2 pi t) for t in [0, 1) to f32 precision. WGSL's cos only promises an absolute error of 2^-11
// on [-pi, pi] (SwiftShader is that coarse), so reduce exactly by quarter turns: 4t = q + r with
// r in [-1/2, 1/2] (exact, t has 24 bits), then a = r pi/2 in [-pi/4, pi/4] and Taylor polynomials
// whose first dropped terms are below 1e-9.
fn wg_cos_2pi(t: f32) -> f32 {
  let s = t * 4.0;
  let q = round(s);
  let a = (s - q) * 1.5707963267948966;
  let a2 = a * a;
  let c = 1.0 + a2 * (-0.5 + a2 * (1.0 / 24.0 + a2 * (-1.0 / 720.0 + a2 * (1.0 / 40320.0 - a2 / 3628800.0))));
  let sn = a * (1.0 + a2 * (-1.0 / 6.0 + a2 * (1.0 / 120.0 + a2 * (-1.0 / 5040.0 + a2 / 362880.0))));
  switch (u32(q) & 3u) {
    case 0u: { return c; }
    case 1u: { return -sn; }
    case 2u: { return -c; }
    default: { return sn; }
  }
}

// Standard normal by Box-Muller on u1 in (0, 1] and u2 in [0, 1), as normalAt.
fn wg_normal(seed: u32, c: u32) -> f32 {
  let w = wg_words(seed, c);
  let u1 = f32((w.x >> 8u) + 1u) / 16777216.0;
  let u2 = f32(w.y >> 8u) / 16777216.0;
  return sqrt(-2.0 * wg_ln_unit(u1)) * wg_cos_2pi(u2);
}
