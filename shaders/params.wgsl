// The uniform parameter block every kernel reads (codegen.ts's Params): {{NPARAMS}} vec4<u32>s.
struct Params {
  v: array<vec4<u32>, {{NPARAMS}}>,
}

@group(0) @binding(0) var<uniform> P: Params;

// Parameter word i (for indices computed at run time).
fn pr(i: u32) -> u32 {
  return P.v[i >> 2u][i & 3u];
}
