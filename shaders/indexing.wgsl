// Shared part of the indexing kernels (gather, scatter, sort, scan; src/backends/webgpu/indexing.ts):
// invocation i is element i, in row-major order, of a grid shape of RANK dims; view v reads the
// grid with its own strides. Parameter words: 0 count, 1 rank, 2 dim, 3 size (kernel's own),
// 4..6 strides along dim (kernel's own), 7 flags, 8..11 view offsets, 12.. the shape, then the
// strides of view 0, 1, ... (RANK words each), then any kernel extras.

alias X = {{X}};

{{PARAMS}}
{{BINDINGS}}

fn count() -> u32 { return P.v[0].x; }
fn rank() -> u32 { return P.v[0].y; }
fn dimP() -> u32 { return P.v[0].z; }
fn sizeP() -> u32 { return P.v[0].w; }
fn flags() -> u32 { return P.v[1].w; }
fn shp(d: u32) -> u32 { return pr(12u + d); }
fn strd(v: u32, d: u32) -> u32 { return pr(12u + rank() * (v + 1u) + d); }

// Offset in view v of grid element i.
fn offsetOf(i: u32, v: u32) -> u32 {
  var q = i;
  var off = pr(8u + v);
  for (var d = rank(); d > 0u; d = d - 1u) {
    let s = shp(d - 1u);
    off = off + (q % s) * strd(v, d - 1u);
    q = q / s;
  }
  return off;
}

// Coordinate of grid element i along dim.
fn coordOf(i: u32, dim: u32) -> u32 {
  var q = i;
  for (var d = rank() - 1u; d > dim; d = d - 1u) {
    q = q / shp(d);
  }
  return q % shp(dim);
}

fn xnan(a: X) -> bool {
  {{NANBODY}}
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * 256u + lid;
  if (i >= count()) {
    return;
  }
{{BODY}}
}
