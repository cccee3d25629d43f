// Reduction (sum, max, min, argmax, argmin) of x over a set of dims. The kept dims index outputs o,
// the reduced dims a row-major index r. A workgroup of WG invocations is TX outputs x TY lanes;
// the lanes of an output each fold at most ITEMS elements of one chunk of r, then combine by a tree
// in workgroup memory (after a subgroup step where the adapter has subgroups). A reduced extent
// larger than one chunk gives G chunks per output: partial results [O, G] and another pass.
// reduce.ts fills the slots; NaN is the extreme of max/min and the first index wins ties.

alias T = {{T}};

{{PARAMS}}
{{BINDINGS}}

var<workgroup> sv: array<T, {{WG}}>;
var<workgroup> si: array<u32, {{WG}}>;

{{COMBINE}}

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32{{SG_ARGS}}) {
  let wid = wg.y * nwg.x + wg.x;
  let O = {{O}};
  let R = {{R}};
  let G = {{G}};
  let items = {{ITEMS}};
  let TX = {{TX}};
  let TY = {{TY}};
  let g = wid % G;
  let o = wid / G * TX + {{TXI}};
  let ty = {{TYI}};
  let live = wid < {{WORKGROUPS}} && o < O;
  var acc: T = {{IDENTITY}};
  var ai = 0xffffffffu;
  if (live) {
{{BASE}}
    for (var k = 0u; k < items; k = k + 1u) {
      let r = (g * items + k) * TY + ty;
      if (r >= R) {
        break;
      }
{{ELEM}}
{{ACCUM}}
    }
  }
{{TREE}}
  if (ty == 0u && live) {
{{WRITE}}
  }
}
