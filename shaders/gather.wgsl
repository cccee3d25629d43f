  // gather: b1 out, b2 index (i32), b3 x (strides without dim). An out-of-range index gives 0.
  let k = b2[offsetOf(i, 1u)];
  var r = X(0);
  if (k >= 0 && u32(k) < sizeP()) {
    r = b3[offsetOf(i, 2u) + u32(k) * pr(4u)];
  }
  b1[offsetOf(i, 0u)] = r;
