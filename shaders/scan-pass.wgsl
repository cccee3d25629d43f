  // One pass of a Hillis-Steele scan along dim, for long rows (src/backends/webgpu/indexing.ts
  // runs 2 + ceil(log2 n) of them): b1 written, b2 read. flags: 1 exclusive, 2 reverse, 4 product;
  // 8 load, 16 store, else a step that combines element j with j - distance (word 5). Load reads x
  // (strided, reversed and shifted as the flags ask) into a contiguous buffer; store writes back.
  let dim = dimP();
  let n = sizeP();
  let f = flags();
  let prod = (f & 4u) != 0u;
  let rev = (f & 2u) != 0u;
  let c = coordOf(i, dim);
  let io = offsetOf(i, 1u);
  let sd = pr(4u);
  if ((f & 8u) != 0u) {
    let excl = (f & 1u) != 0u;
    var v = select(X(0), X(1), prod);
    if (!excl || c > 0u) {
      let l = select(c, c - 1u, excl);
      let j = select(l, n - 1u - l, rev);
      v = b2[io - c * sd + j * sd];
    }
    b1[offsetOf(i, 0u)] = v;
  } else if ((f & 16u) != 0u) {
    let j = select(c, n - 1u - c, rev);
    let od = pr(6u);
    b1[offsetOf(i, 0u) - c * od + j * od] = b2[io];
  } else {
    let k = pr(5u);
    var v = b2[io];
    if (c >= k) {
      let w = b2[io - k * sd];
      v = select(v + w, v * w, prod);
    }
    b1[offsetOf(i, 0u)] = v;
  }
