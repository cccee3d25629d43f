// Elementwise kernel (unary, binary, where, copy, fill, random): one invocation per output element in
// row-major order. Views are read in place through their strides (after dims that are contiguous
// for every view are merged); a view that is contiguous indexes with `offset + i`.
// src/backends/webgpu/elementwise.ts fills the slots.

alias T = {{T}};

{{PARAMS}}
{{BINDINGS}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * {{WG}}u + lid;
  if (i >= {{COUNT}}) {
    return;
  }
{{INDEX}}
{{BODY}}
}
