import { Func, i32 } from './emitter.js';

/**
 * float32 matmul in WebAssembly SIMD, the BLIS way: B is packed into panels of NR = 8 columns and
 * A into panels of MR rows (packing reads any strides, so transposed operands cost no copy), and a
 * micro-kernel keeps an MR×8 block of C in 2·MR v128 locals, adding one rank-1 update per k:
 * MR splat loads + 2 vector loads for 2·MR vector multiply-adds. The driver (wasm/backend.ts)
 * blocks K and M so a packed B panel stays in L1 and the packed A block in L2.
 */
export const NR = 8;

/**
 * packA(src, rs, cs, dst, mc, kc): rows i < mc of the K chunk at src (element strides rs, cs),
 * as panels of MR rows: dst[(i / MR) * kc * MR + k * MR + i % MR] = A[i, k]; rows mc..⌈mc/MR⌉·MR are 0.
 */
export function packA(MR: number): Func {
  const f = new Func([i32, i32, i32, i32, i32, i32]);
  const [src, rs, cs, dst, mc, kc] = [0, 1, 2, 3, 4, 5];
  const i = f.local(i32), k = f.local(i32), s = f.local(i32), d = f.local(i32), rows = f.local(i32);
  // rows = ⌈mc / MR⌉ · MR
  f.get(mc).i32(MR - 1).add().i32(MR).op(0x6e /* i32.div_u */).i32(MR).mul().set(rows);
  f.get(cs).i32(2).shl().set(cs);
  f.for(i, 0, rows, 1, () => {
    // d = dst + 4 · ((i / MR) · kc · MR + i % MR)
    f.get(dst).get(i).i32(MR).op(0x6e).get(kc).mul().i32(MR).mul().get(i).i32(MR).op(0x70 /* rem_u */).add().i32(2).shl().add().set(d);
    f.get(src).get(i).get(rs).mul().i32(2).shl().add().set(s);
    f.get(i).get(mc).ltS().if();
    f.for(k, 0, kc, 1, () => {
      f.get(d).get(s).f32Load().f32Store();
      f.get(s).get(cs).add().set(s).get(d).i32(4 * MR).add().set(d);
    });
    f.else();
    f.for(k, 0, kc, 1, () => {
      f.get(d).f32(0).f32Store();
      f.get(d).i32(4 * MR).add().set(d);
    });
    f.end();
  });
  return f;
}

/**
 * packB(src, rs, cs, dst, kc, nc): columns j < nc of the K chunk as panels of 8 columns:
 * dst[(j / 8) * kc * 8 + k * 8 + j % 8] = B[k, j]; columns nc..⌈nc/8⌉·8 are 0. With cs = 1
 * (B row-major) whole panels move as two v128 loads per k.
 */
export function packB(): Func {
  const f = new Func([i32, i32, i32, i32, i32, i32]);
  const [src, rs, cs, dst, kc, nc] = [0, 1, 2, 3, 4, 5];
  const j = f.local(i32), k = f.local(i32), s = f.local(i32), d = f.local(i32), cols = f.local(i32), full = f.local(i32);
  f.get(nc).i32(NR - 1).add().i32(-NR).op(0x71 /* i32.and */).set(cols);
  f.get(rs).i32(2).shl().set(rs);
  // full = nc rounded down to a panel when B's rows are contiguous, else 0
  f.get(cs).i32(1).op(0x46 /* i32.eq */).if().get(nc).i32(-NR).op(0x71).set(full).end();
  f.for(j, 0, full, NR, () => {
    f.get(dst).get(j).get(kc).mul().i32(2).shl().add().set(d);
    f.get(src).get(j).i32(2).shl().add().set(s);
    f.for(k, 0, kc, 1, () => {
      f.get(d).get(s).v128Load().v128Store();
      f.get(d).get(s).v128Load(16).v128Store(16);
      f.get(s).get(rs).add().set(s).get(d).i32(4 * NR).add().set(d);
    });
  });
  f.get(cs).i32(2).shl().set(cs);
  f.for(j, { local: full }, cols, 1, () => {
    // d = dst + 4 · ((j / 8) · kc · 8 + j % 8)
    f.get(dst).get(j).i32(-NR).op(0x71).get(kc).mul().get(j).i32(NR - 1).op(0x71).add().i32(2).shl().add().set(d);
    f.get(src).get(j).get(cs).mul().add().set(s);
    f.get(j).get(nc).ltS().if();
    f.for(k, 0, kc, 1, () => {
      f.get(d).get(s).f32Load().f32Store();
      f.get(s).get(rs).add().set(s).get(d).i32(4 * NR).add().set(d);
    });
    f.else();
    f.for(k, 0, kc, 1, () => {
      f.get(d).f32(0).f32Store();
      f.get(d).i32(4 * NR).add().set(d);
    });
    f.end();
  });
  return f;
}

/**
 * gemm(mc, nc, kc, ap, bp, c, ldc, first, tile): C[0:mc, 0:nc] (row stride ldc elements) gets
 * packed A · packed B, added to C unless `first` (the first K chunk overwrites). Edge blocks go
 * through `tile` (MR·8 floats of scratch) so the micro-kernel always runs full-width.
 */
export function gemm(MR: number, fma: boolean): Func {
  const f = new Func([i32, i32, i32, i32, i32, i32, i32, i32, i32]);
  const [mc, nc, kc, ap, bp, c, ldc, first, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const ir = f.local(i32), jr = f.local(i32), k = f.local(i32), a = f.local(i32), b = f.local(i32);
  const cp = f.local(i32), rows = f.local(i32), cols = f.local(i32), r = f.local(i32), q = f.local(i32), o = f.local(i32);
  const acc = Array.from({ length: 2 * MR }, () => f.local(0x7b));
  const b0 = f.local(0x7b), b1 = f.local(0x7b), av = f.local(0x7b);
  f.get(ldc).i32(2).shl().set(ldc);
  f.for(jr, 0, nc, NR, () => {
    f.for(ir, 0, mc, MR, () => {
      for (const x of acc) f.v128Zero().set(x);
      f.get(ap).get(ir).get(kc).mul().i32(2).shl().add().set(a);
      f.get(bp).get(jr).get(kc).mul().i32(2).shl().add().set(b);
      f.for(k, 0, kc, 1, () => {
        f.get(b).v128Load().set(b0).get(b).v128Load(16).set(b1);
        for (let m = 0; m < MR; m++) {
          f.get(a).v128Splat32(4 * m).set(av);
          for (const [h, bv] of [[0, b0], [1, b1]] as const) {
            const x = acc[2 * m + h]!;
            if (fma) f.get(av).get(bv).get(x).simd('f32x4_relaxed_madd').set(x);
            else f.get(x).get(av).get(bv).simd('f32x4_mul').simd('f32x4_add').set(x);
          }
        }
        f.get(a).i32(4 * MR).add().set(a).get(b).i32(4 * NR).add().set(b);
      });
      // cp = c + (ir · ldc + jr · 4)
      f.get(c).get(ir).get(ldc).mul().add().get(jr).i32(2).shl().add().set(cp);
      f.get(mc).get(ir).sub().set(rows).get(nc).get(jr).sub().set(cols);
      f.get(rows).i32(MR).geS().get(cols).i32(NR).geS().op(0x71).if();
      for (let m = 0; m < MR; m++) {
        for (let h = 0; h < 2; h++) {
          const x = acc[2 * m + h]!;
          f.get(first).eqz().if().get(x).get(cp).v128Load(16 * h).simd('f32x4_add').set(x).end();
          f.get(cp).get(x).v128Store(16 * h);
        }
        if (m < MR - 1) f.get(cp).get(ldc).add().set(cp);
      }
      f.else();
      // edge block: spill to the tile, then copy its valid rows × cols
      for (let m = 0; m < MR; m++) for (let h = 0; h < 2; h++) f.get(tile).get(acc[2 * m + h]!).v128Store(32 * m + 16 * h);
      f.get(rows).i32(MR).geS().if().i32(MR).set(rows).end();
      f.get(cols).i32(NR).geS().if().i32(NR).set(cols).end();
      f.for(r, 0, rows, 1, () => {
        f.for(q, 0, cols, 1, () => {
          f.get(cp).get(r).get(ldc).mul().add().get(q).i32(2).shl().add().set(o);
          f.get(o).get(tile).get(r).i32(NR).mul().get(q).add().i32(2).shl().add().f32Load();
          // + (first ? 0 : C[o])
          f.f32(0).get(o).f32Load().get(first).op(0x1b /* select */).op(0x92 /* f32.add */).f32Store();
        });
      });
      f.end();
    });
  });
  return f;
}
