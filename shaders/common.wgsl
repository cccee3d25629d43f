// Helpers shared by every generated kernel. Op-table expressions (src/ops/elementwise.ts) may call
// the wg_* functions here. NaN and infinity are built from bit patterns at run time (a `var`, not a
// const-expression), and NaN tests look at the bits, so no compiler can fold them away.

fn wg_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

fn wg_inf() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}

fn wg_isnan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn wg_isfinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// float -> int32 as the CPU backend's castScalar: truncate toward zero, wrap modulo 2^32,
// NaN and infinities give 0 (WGSL's i32() would saturate instead).
fn wg_f2i(x: f32) -> i32 {
  if (!wg_isfinite(x)) {
    return 0;
  }
  if (abs(x) < 2147483648.0) {
    return i32(x);
  }
  // |x| >= 2^31 is an integer with a large exponent: the remainder below is exact.
  let r = x - 4294967296.0 * floor(x / 4294967296.0);
  return bitcast<i32>(u32(r));
}

// Math.pow semantics (the CPU reference): a negative base with an integral exponent is defined
// (WGSL's pow is NaN there), small integral exponents are exact by repeated squaring, and
// x^0 = 1 even for NaN x.
fn wg_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) {
    return 1.0;
  }
  if (wg_isnan(a) || wg_isnan(b)) {
    return wg_nan();
  }
  let x = abs(a);
  let neg = (bitcast<u32>(a) & 0x80000000u) != 0u;
  let integral = floor(b) == b;
  if (neg && !integral && wg_isfinite(a) && a != 0.0) {
    return wg_nan();
  }
  let odd = integral && abs(b) < 16777216.0 && (b - 2.0 * floor(b * 0.5)) == 1.0;
  var m: f32;
  if (x == 0.0) {
    m = select(0.0, wg_inf(), b < 0.0);
  } else if (!wg_isfinite(x)) {
    m = select(0.0, wg_inf(), b > 0.0);
  } else if (integral && abs(b) <= 64.0) {
    var n = u32(abs(b));
    var base = x;
    m = 1.0;
    loop {
      if ((n & 1u) != 0u) {
        m = m * base;
      }
      n = n >> 1u;
      if (n == 0u) {
        break;
      }
      base = base * base;
    }
    if (b < 0.0) {
      m = 1.0 / m;
    }
  } else {
    m = pow(x, b);
  }
  return select(m, -m, neg && odd);
}

// log(1 + x) without the cancellation of forming 1 + x (Goldberg's trick): the rounding of u = 1 + x
// is undone by scaling with x / (u - 1).
fn wg_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) {
    return x;
  }
  if (!wg_isfinite(u)) {
    return log(u);
  }
  return log(u) * x / (u - 1.0);
}

// e^x - 1 accurate near 0 (Kahan's trick), matching torch.expm1 within float32 rounding.
fn wg_expm1(x: f32) -> f32 {
  let u = exp(x);
  if (u == 1.0) {
    return x;
  }
  let um1 = u - 1.0;
  if (um1 == -1.0 || !wg_isfinite(u)) {
    return um1;
  }
  return um1 * x / log(u);
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, float32's own rounding).
fn wg_erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - p * exp(-a * a);
  return select(r, -r, x < 0.0);
}
