  // Bitonic sort along dim, for long rows (src/backends/webgpu/indexing.ts runs load, then one
  // compare-exchange pass per (block k, distance j), then store). The grid is x's shape with dim
  // padded to a power of two; b1 values, b2 indices (out), b3/b4 scratch values/positions (view 2),
  // b5 x (view 3). Positions >= n are padding and sort last. Ties order by position, so the order is
  // total and the result is the stable one. flags: 1 descending, 8 load, 16 store.
  let dim = dimP();
  let n = sizeP();
  let f = flags();
  let c = coordOf(i, dim);
  let t = offsetOf(i, 2u);
  if ((f & 8u) != 0u) {
    if (c < n) {
      b3[t] = b5[offsetOf(i, 3u)];
    }
    b4[t] = i32(c);
    return;
  }
  if ((f & 16u) != 0u) {
    if (c < n) {
      b1[offsetOf(i, 0u)] = b3[t];
      b2[offsetOf(i, 1u)] = b4[t];
    }
    return;
  }
  let j = pr(4u);
  let k = pr(5u);
  if ((c & j) != 0u) {
    return;
  }
  let u = t + j * pr(6u);
  let pa = u32(b4[t]);
  let pb = u32(b4[u]);
  let va = b3[t];
  let vb = b3[u];
  // Does b come before a? Padding last; NaN largest; ties by position.
  var bFirst: bool;
  if (pa >= n || pb >= n) {
    bFirst = pb < pa;
  } else {
    let an = xnan(va);
    let bn = xnan(vb);
    if (an || bn) {
      bFirst = select(select(an, bn, (f & 1u) != 0u), (pb < pa), an && bn);
    } else if (va == vb) {
      bFirst = pb < pa;
    } else {
      bFirst = select((vb < va), (vb > va), (f & 1u) != 0u);
    }
  }
  // Blocks with bit k clear sort ascending in this order, the others descending.
  if (bFirst == ((c & k) == 0u)) {
    b3[t] = vb;
    b3[u] = va;
    b4[t] = i32(pb);
    b4[u] = i32(pa);
  }
