  // cumulative sum / product along dim: b1 out, b2 x. O(n) per element.
  // flags: 1 = exclusive, 2 = reverse, 4 = product.
  let dim = dimP();
  let f = flags();
  let excl = (f & 1u) != 0u;
  let rev = (f & 2u) != 0u;
  let prod = (f & 4u) != 0u;
  let c = coordOf(i, dim);
  let base = offsetOf(i, 1u) - c * pr(4u);
  var acc = select(X(0), X(1), prod);
  for (var j = 0u; j < sizeP(); j = j + 1u) {
    if (select((j < c), (j > c), rev) || (j == c && !excl)) {
      let v = b2[base + j * pr(4u)];
      acc = select(acc + v, acc * v, prod);
    }
  }
  b1[offsetOf(i, 0u)] = acc;
