  // sort by rank: b1 values, b2 indices (i32), b3 x. Element i's place along dim is the number of
  // elements that sort before it (ties by position: a stable sort). O(n) per element, O(n^2) per row.
  // flags: 1 = descending.
  let dim = dimP();
  let n = sizeP();
  let desc = (flags() & 1u) != 0u;
  let c = coordOf(i, dim);
  let xo = offsetOf(i, 2u);
  let base = xo - c * pr(6u);
  let v = b3[xo];
  let vn = xnan(v);
  var place = 0u;
  for (var j = 0u; j < n; j = j + 1u) {
    let a = b3[base + j * pr(6u)];
    let an = xnan(a);
    var before: bool;
    if (an || vn) {
      before = select(select(vn, an, desc), (j < c), an && vn);
    } else if (a == v) {
      before = j < c;
    } else {
      before = select((a < v), (a > v), desc);
    }
    if (before) {
      place = place + 1u;
    }
  }
  b1[offsetOf(i, 0u) - c * pr(4u) + place * pr(4u)] = v;
  b2[offsetOf(i, 1u) - c * pr(5u) + place * pr(5u)] = i32(c);
