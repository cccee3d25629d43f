// Batched matmul for CPU adapters with subgroup ops: a workgroup is one subgroup of {{SG}} lanes
// computing a {{TM}}-row block; each lane keeps its {{TN}} columns in registers. The A values of a
// block are loaded once, spread over the lanes (slots), and shared with subgroupBroadcast: on a CPU
// adapter each lane's load is a scalar loop over the SIMD lanes, a broadcast one register shuffle.
// Same parameters and layouts as matmul.wgsl; matmul.ts picks one.

alias T = {{T}};

{{PARAMS}}
{{BINDINGS}}

@compute @workgroup_size({{SG}})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
{{PROLOGUE}}
  // No invocation leaves before the loop: subgroupBroadcast needs every lane.
  let nl = n0 + lane * {{TN}}u;
{{ROWS}}
{{ACC_DECL}}
  for (var k = 0u; k < K; k = k + {{S}}u) {
{{BODY}}
  }
{{STORE}}
}
