  // scatter: b1 out, b2 self, b3 index (i32), b4 src; the grid is out's shape. Each output element
  // walks the index entries that share its other coordinates (size = index's extent along dim),
  // so no two invocations write one element and no atomics are needed. flags: 1 = add.
  var acc = b2[offsetOf(i, 1u)];
  let dim = dimP();
  var q = i;
  var inside = true;
  var ib = pr(10u);
  var sb = pr(11u);
  var c = 0u;
  for (var d = rank(); d > 0u; d = d - 1u) {
    let dd = d - 1u;
    let s = shp(dd);
    let cd = q % s;
    q = q / s;
    if (dd == dim) {
      c = cd;
    } else {
      if (cd >= pr(12u + rank() * 5u + dd)) {
        inside = false;
      }
      ib = ib + cd * strd(2u, dd);
      sb = sb + cd * strd(3u, dd);
    }
  }
  if (inside) {
    for (var k = 0u; k < sizeP(); k = k + 1u) {
      if (b3[ib + k * pr(4u)] == i32(c)) {
        let v = b4[sb + k * pr(5u)];
        acc = select(v, acc + v, (flags() & 1u) != 0u);
      }
    }
  }
  b1[offsetOf(i, 0u)] = {{STORE}};
