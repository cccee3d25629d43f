// Batched matmul without workgroup memory: each invocation computes a {{TM}}x{{TN}} block of out in
// registers from operand values loaded straight from the buffers (vec4 along K for A and along N for
// B where the layout allows). Same parameters and layouts as matmul.wgsl; matmul.ts picks one.

alias T = {{T}};

{{PARAMS}}
{{BINDINGS}}

@compute @workgroup_size({{WGX}}, {{WGY}})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>) {
{{PROLOGUE}}
  let m = m0 + lid3.y * {{TM}}u;
  let n = n0 + lid3.x * {{TN}}u;
  if (m >= M || n >= N) {
    return;
  }
{{ROWS}}
{{ACC_DECL}}
  for (var k = 0u; k < K; k = k + {{KU}}u) {
{{BODY}}
  }
{{STORE}}
}
