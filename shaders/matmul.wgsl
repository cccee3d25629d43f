// Batched matmul out[b] = A[b] @ B[b], A [B, M, K] and B [B, K, N] read through arbitrary strides
// (a transposed operand is read in place; batch stride 0 broadcasts), out contiguous [B, M, N].
// Each workgroup computes a {{BM}}x{{BN}} tile of out; each invocation a {{TM}}x{{TN}} block of
// it in registers (register blocking), with tiles of A and B staged through workgroup memory in
// steps of {{BK}} along K. Loads are vec4 where the operand's layout allows (see matmul.ts).

alias T = {{T}};

{{PARAMS}}
{{BINDINGS}}

// As[k][m] and Bs[k][n], vec4s along m and n.
var<workgroup> As: array<vec4<T>, {{AS_LEN}}>;
var<workgroup> Bs: array<vec4<T>, {{BS_LEN}}>;

@compute @workgroup_size({{THREADS}})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
{{PROLOGUE}}
  let tx = lid % {{TX}}u;
  let ty = lid / {{TX}}u;
{{ACC_DECL}}
  for (var k0 = 0u; k0 < K; k0 = k0 + {{BK}}u) {
{{LOAD_A}}
{{LOAD_B}}
    workgroupBarrier();
    for (var k = 0u; k < {{BK}}u; k = k + 1u) {
{{INNER}}
    }
    workgroupBarrier();
  }
{{STORE}}
}
