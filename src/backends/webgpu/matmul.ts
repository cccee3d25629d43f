/**
 * Batched matmul: the tiled kernel (shaders/matmul.wgsl), the direct one (matmul-direct.wgsl) or the
 * subgroup one (matmul-subgroup.wgsl), as kernels.ts chooses, specialized for the operands'
 * layouts. Each operand tile is loaded with vec4 reads along its contiguous dim when the strides and
 * offsets are multiples of 4, else with scalar reads walking its smaller stride fastest (so a
 * transposed weight is read in place, coalesced). Any M, N, K: edge tiles are zero-padded.
 */
import type { Launch } from '../../backend.js';
import template from '../../../shaders/matmul.wgsl?raw';
import directTemplate from '../../../shaders/matmul-direct.wgsl?raw';
import subgroupTemplate from '../../../shaders/matmul-subgroup.wgsl?raw';
import { bindingDecl, computeType, fill, Params, type Ctx } from './codegen.js';
import { countVariant, declareVariants, kernelsFor, type MatmulKernel } from './kernels.js';
import type { GpuBuf } from './pool.js';

/** How an operand is read (see modeOf); every mode is a code path of both kernels. */
const MODES = ['vo', 'vk', 'so', 'sk'] as const;
type Mode = (typeof MODES)[number];
const readVariant = (kind: MatmulKernel['kind'], a: Mode, b: Mode) => `matmul:${kind}:${a}${b}`;
const storeVariant = (kind: MatmulKernel['kind'], vec4: boolean) => `matmul:${kind}:store-${vec4 ? 'vec4' : 'scalar'}`;

/** The read modes an operand can get under a kernel (what modeOf gives, less encodeMatmul's demotions). */
function modesFor(cfg: MatmulKernel, operand: 'A' | 'B'): readonly Mode[] {
  if (!cfg.vec4) return ['so', 'sk'];
  // The direct kernel reads A along M in vec4s only when a block is 4 rows of them.
  if (cfg.kind === 'direct' && operand === 'A' && cfg.block.TM % 4 !== 0) return ['vk', 'so', 'sk'];
  return MODES;
}

// Every pair of operand reads is a separate code path of each kernel; so is each store.
declareVariants(({ matmul: cfg }) => [
  ...modesFor(cfg, 'A').flatMap((a) => modesFor(cfg, 'B').map((b) => readVariant(cfg.kind, a, b))),
  ...(cfg.vec4 ? [true, false] : [false]).map((v) => storeVariant(cfg.kind, v)),
]);

/**
 * An elementwise epilogue fused into the matmul (the executor's, rendered by fused.ts): WGSL
 * declaring `fn epi(i: u32, acc: T)`, called for every output element after it is stored; its
 * buffers bind after the matmul's.
 */
export interface MatmulEpilogue {
  bufs: readonly GpuBuf[];
  key: string;
  code: string;
  done(): void;
}

/**
 * How one operand is read: X[base + o * so + k * sk], o along M (A) or N (B). 'v*' read vec4 along
 * o or k, 's*' scalars with o or k fastest across invocations.
 */
function modeOf(so: number, sk: number, O: number, K: number, off: number, bs: number, vec4: boolean): Mode {
  const al = (x: number) => x % 4 === 0;
  if (vec4 && so === 1 && al(O) && al(sk) && al(off) && al(bs)) return 'vo';
  if (vec4 && sk === 1 && al(K) && al(so) && al(off) && al(bs)) return 'vk';
  return Math.abs(so) <= Math.abs(sk) ? 'so' : 'sk';
}

/** WGSL that stages one operand's tile into S[k][o] (vec4s along o). */
function loadCode(mode: Mode, X: string, S: string, BO: number, BK: number, threads: number, o0: string, O: string, base: string, so: string, sk: string, T: string): string {
  const vec = mode[0] === 'v';
  const count = (BO * BK) / (vec ? 4 : 1);
  const per = Math.ceil(count / threads);
  const BO4 = BO / 4;
  let s = '';
  for (let l = 0; l < per; l++) {
    const e = `(lid + ${l * threads}u)`;
    const guard = count % threads === 0 ? '' : `if (${e} < ${count}u) `;
    let body: string;
    switch (mode) {
      case 'vo':
        body =
          `let o = ${e} % ${BO4}u * 4u; let k = ${e} / ${BO4}u; let go = ${o0} + o; let gk = k0 + k;\n` +
          `      var v = vec4<${T}>(); if (go < ${O} && gk < K) { v = ${X}[(${base} + go + gk * ${sk}) / 4u]; }\n` +
          `      ${S}[k * ${BO4}u + o / 4u] = v;`;
        break;
      case 'vk':
        body =
          `let k = ${e} % ${BK / 4}u * 4u; let o = ${e} / ${BK / 4}u; let go = ${o0} + o; let gk = k0 + k;\n` +
          `      var v = vec4<${T}>(); if (go < ${O} && gk < K) { v = ${X}[(${base} + go * ${so} + gk) / 4u]; }\n` +
          `      let si = o / 4u; let sc = o % 4u;\n` +
          [0, 1, 2, 3].map((c) => `      ${S}[(k + ${c}u) * ${BO4}u + si][sc] = v[${c}];`).join('\n');
        break;
      case 'so':
      case 'sk': {
        const [o, k] = mode === 'so' ? [`${e} % ${BO}u`, `${e} / ${BO}u`] : [`${e} / ${BK}u`, `${e} % ${BK}u`];
        body =
          `let o = ${o}; let k = ${k}; let go = ${o0} + o; let gk = k0 + k;\n` +
          `      var v = ${T}(0); if (go < ${O} && gk < K) { v = ${X}[${base} + go * ${so} + gk * ${sk}]; }\n` +
          `      ${S}[k * ${BO4}u + o / 4u][o % 4u] = v;`;
        break;
      }
    }
    s += `    ${guard}{\n      ${body}\n    }\n`;
  }
  return s;
}

/**
 * WGSL of the subgroup kernel: per step of S values of k, the A values of the block (TM rows x S)
 * are 'slots' (vec4s for 'vk'/'vo', scalars otherwise); slot l is loaded by lane l % SG into its
 * av{l / SG} and broadcast to all lanes. Each lane reads its own TN columns of B.
 */
function subgroupBody(modeA: Mode, modeB: Mode, SG: number, TM: number, TN: number, S: number, T: string, r: Record<string, string>): { rows: string; body: string } {
  const rows: string[] = [];
  const body: string[] = [];
  const vecA = modeA[0] === 'v';
  const perSlot = modeA === 'vk' ? S : modeA === 'vo' ? 4 : 1; // A values in a slot
  const slots = (TM * S) / perSlot;
  // A slot's row (or first row for 'vo') and k offset, in the order the lanes load them.
  const slotOf = (l: string): [string, string] =>
    modeA === 'vk' ? [l, '0u'] : modeA === 'vo' ? [`${l} % ${TM / 4}u * 4u`, `${l} / ${TM / 4}u`] : [`${l} % ${TM}u`, `${l} / ${TM}u`];
  const loads = Math.ceil(slots / SG);
  for (let j = 0; j < loads; j++) {
    // Lanes past the last slot load the last one again (and broadcast nothing).
    const l = `sl${j}`;
    const [row, dk] = slotOf(l);
    rows.push(`  let ${l} = min(lane + ${SG * j}u, ${slots - 1}u);`);
    if (modeA === 'vo') rows.push(`  let ar${j} = aBase + min(m0 + ${row}, M - 4u); let ak${j} = ${dk};`);
    else rows.push(`  let ar${j} = aBase + min(m0 + ${row}, M - 1u) * ${r.aRs}; let ak${j} = ${dk};`);
    const idx = `ar${j} + (k + ak${j}) * ${r.aCs}`;
    body.push(`    let av${j} = A[${vecA ? `(${idx}) / 4u` : idx}];`);
  }
  rows.push(...bColumns(modeB, TN, 'nl', r));
  body.push(...bPreload(modeB, TN));
  for (let s = 0; s < S; s++) for (let j = 0; j < TN / 4; j++) body.push(`    let b${s}_${j} = ${bVec(modeB, j, s, `(k + ${s}u)`, T, r)};`);
  // Slots in the order that updates each accumulator S times in a row (fewer spills to reload).
  const order = Array.from({ length: slots }, (_, l) => l);
  if (modeA !== 'vk') {
    const per = slots / S; // slots of one k
    order.sort((x, y) => (x % per) - (y % per) || x - y);
  }
  for (const l of order) {
    body.push(`    { let a = subgroupBroadcast(av${Math.floor(l / SG)}, ${l % SG}u);`);
    for (let v = 0; v < perSlot; v++) {
      // Slot l's value v: its row i and step s.
      const [i, s] = modeA === 'vk' ? [l, v] : modeA === 'vo' ? [(l % (TM / 4)) * 4 + v, Math.floor(l / (TM / 4))] : [l % TM, Math.floor(l / TM)];
      const a = vecA ? `a[${v}]` : 'a';
      for (let j = 0; j < TN / 4; j++) body.push(`      acc${i}_${j} = acc${i}_${j} + ${a} * b${s}_${j};`);
    }
    body.push('    }');
  }
  return { rows: rows.join('\n'), body: body.join('\n') };
}

/** B's column indices for TN columns from `col`, clamped into range (edge blocks compute on repeated data, store nothing). */
function bColumns(modeB: Mode, TN: number, col: string, r: Record<string, string>): string[] {
  if (modeB === 'vo') return Array.from({ length: TN / 4 }, (_, j) => `  let cb${j} = bBase + min(${col} + ${4 * j}u, N - 4u);`);
  return Array.from({ length: TN }, (_, c) => `  let cn${c} = bBase + min(${col} + ${c}u, N - 1u) * ${r.bCs};`);
}

/** With B read along k (vk): each column's four k values, loaded once per step of 4. */
function bPreload(modeB: Mode, TN: number): string[] {
  return modeB === 'vk' ? Array.from({ length: TN }, (_, c) => `    let bv${c} = Bm[(cn${c} + k) / 4u];`) : [];
}

/** B's values of columns 4j..4j+3 at k step `step` (row index `kx`), as one vec4. */
function bVec(modeB: Mode, j: number, step: number, kx: string, T: string, r: Record<string, string>): string {
  if (modeB === 'vo') return `Bm[(cb${j} + ${kx} * ${r.bRs}) / 4u]`;
  if (modeB === 'vk') return `vec4<${T}>(${[0, 1, 2, 3].map((c) => `bv${4 * j + c}[${step}]`).join(', ')})`;
  return `vec4<${T}>(${[0, 1, 2, 3].map((c) => `Bm[cn${4 * j + c} + ${kx} * ${r.bRs}]`).join(', ')})`;
}

/** WGSL of the direct kernel's loop body: KU steps of k, each a TM x TN block of multiply-adds. */
function directBody(modeA: Mode, modeB: Mode, TM: number, TN: number, KU: number, T: string, r: Record<string, string>): { rows: string; body: string } {
  const rows: string[] = [];
  const body: string[] = [];
  // Row and column indices, clamped into range: edge blocks compute on repeated data, store nothing.
  if (modeA === 'vo') for (let q = 0; q < TM / 4; q++) rows.push(`  let am${q} = aBase + min(m + ${4 * q}u, M - 4u);`);
  else for (let i = 0; i < TM; i++) rows.push(`  let ra${i} = aBase + min(m + ${i}u, M - 1u) * ${r.aRs};`);
  rows.push(...bColumns(modeB, TN, 'n', r));
  if (modeA === 'vk') for (let i = 0; i < TM; i++) body.push(`    let av${i} = A[(ra${i} + k) / 4u];`);
  body.push(...bPreload(modeB, TN));
  for (let kk = 0; kk < KU; kk++) {
    const kx = kk === 0 ? 'k' : `(k + ${kk}u)`;
    const a = (i: number): string => {
      if (modeA === 'vk') return `av${i}[${kk}]`;
      if (modeA === 'vo') return `aw${kk}_${i >> 2}[${i & 3}]`;
      return `A[ra${i} + ${kx} * ${r.aCs}]`;
    };
    if (modeA === 'vo') for (let q = 0; q < TM / 4; q++) body.push(`    let aw${kk}_${q} = A[(am${q} + ${kx} * ${r.aCs}) / 4u];`);
    for (let j = 0; j < TN / 4; j++) body.push(`    let b${kk}_${j} = ${bVec(modeB, j, kk, kx, T, r)};`);
    if (modeA !== 'vo' && modeA !== 'vk') for (let i = 0; i < TM; i++) body.push(`    let as${kk}_${i} = ${a(i)};`);
    for (let i = 0; i < TM; i++) {
      const ai = modeA === 'vo' || modeA === 'vk' ? a(i) : `as${kk}_${i}`;
      for (let j = 0; j < TN / 4; j++) body.push(`    acc${i}_${j} = acc${i}_${j} + ${ai} * b${kk}_${j};`);
    }
  }
  return { rows: rows.join('\n'), body: body.join('\n') };
}

/**
 * Encodes a batched matmul with the kernel that kernels.ts chooses for this adapter and switch,
 * with the executor's elementwise epilogue when one is given.
 */
export function encodeMatmul(ctx: Ctx, l: Extract<Launch, { kind: 'matmul' }>, epilogue?: (p: Params, firstBinding: number) => MatmulEpilogue): void {
  const { a, b, out } = l;
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (B === 0 || M === 0 || N === 0) return;
  const cfg = kernelsFor(ctx).matmul;
  const direct = cfg.kind === 'direct', sub = cfg.kind === 'subgroup';
  const { BM, BN, BK, TM, TN } =
    cfg.kind === 'direct'
      ? { ...cfg.block, BK: 0, BM: cfg.block.WGY * cfg.block.TM, BN: cfg.block.WGX * cfg.block.TN }
      : cfg.kind === 'subgroup'
        ? { ...cfg.block, BK: 0, BM: cfg.block.TM, BN: cfg.block.SG * cfg.block.TN }
        : cfg.tile;
  const T = computeType(out.dtype);
  const TX = BN / TN, TY = BM / TM, threads = TX * TY;
  const [aBs, aRs, aCs] = a.strides as [number, number, number];
  const [bBs, bRs, bCs] = b.strides as [number, number, number];
  let modeA = modeOf(aRs, aCs, M, K, a.offset, aBs, cfg.vec4);
  let modeB = modeOf(bCs, bRs, N, K, b.offset, bBs, cfg.vec4);
  if (!modesFor(cfg, 'A').includes(modeA)) modeA = 'so';
  // The kernels without tiles step k by 4 where an operand is read in vec4s along k; the subgroup
  // one whenever K allows (it then updates each accumulator 4 times in a row: fewer spill reloads).
  if ((direct || sub) && K % 4 !== 0) {
    if (modeA === 'vk') modeA = 'sk';
    if (modeB === 'vk') modeB = 'sk';
  }
  const KU = (direct && (modeA === 'vk' || modeB === 'vk')) || (sub && K % 4 === 0) ? 4 : 1;
  const vecOut = cfg.vec4 && N % 4 === 0 && out.offset % 4 === 0;
  const tilesN = Math.ceil(N / BN), tiles = Math.ceil(M / BM) * tilesN;
  const maxZ = ctx.maxWorkgroupsPerDim;

  // K == 0 still runs: the k loop is empty and out is zero-filled.
  for (let z0 = 0; z0 < B; z0 += maxZ) {
    const p = new Params();
    const ref = {
      M: p.u32(M), N: p.u32(N), K: p.u32(K), tilesN: p.u32(tilesN), tiles: p.u32(tiles), zbase: p.u32(z0),
      aoff: p.u32(a.offset), aBs: p.u32(aBs), aRs: p.u32(aRs), aCs: p.u32(aCs),
      boff: p.u32(b.offset), bBs: p.u32(bBs), bRs: p.u32(bRs), bCs: p.u32(bCs), ooff: p.u32(out.offset),
    };
    const epi = epilogue?.(p, 4);
    const code = (): string => {
      const prologue = [
        `  let M = ${ref.M}; let N = ${ref.N}; let K = ${ref.K};`,
        `  let wid = wg.y * nwg.x + wg.x;`,
        `  if (wid >= ${ref.tiles}) { return; }`,
        `  let m0 = wid / ${ref.tilesN} * ${BM}u; let n0 = wid % ${ref.tilesN} * ${BN}u;`,
        `  let bz = wg.z + ${ref.zbase};`,
        `  let aBase = ${ref.aoff} + bz * ${ref.aBs}; let bBase = ${ref.boff} + bz * ${ref.bBs};`,
        `  let oBase = ${ref.ooff} + bz * M * N;`,
      ].join('\n');
      const accDecl: string[] = [];
      for (let i = 0; i < TM; i++) for (let j = 0; j < TN / 4; j++) accDecl.push(`  var acc${i}_${j} = vec4<T>();`);
      const store: string[] = [];
      const row0 = direct ? 'm' : sub ? 'm0' : `m0 + ty * ${TM}u`, col0 = direct ? 'n' : sub ? 'nl' : `n0 + tx * ${TN}u`;
      for (let i = 0; i < TM; i++) {
        store.push(`  { let gm = ${row0} + ${i}u; if (gm < M) {`);
        for (let j = 0; j < TN / 4; j++) {
          store.push(`    { let gn = ${col0} + ${j * 4}u; let o = oBase + gm * N + gn;`);
          if (vecOut) store.push(`      if (gn < N) { O[o / 4u] = acc${i}_${j}; }`);
          else for (let c = 0; c < 4; c++) store.push(`      if (gn + ${c}u < N) { O[o + ${c}u] = acc${i}_${j}[${c}]; }`);
          store.push('    }');
        }
        store.push('  } }');
      }
      // The epilogue reads back this invocation's own stores (one call site keeps the shader small).
      if (epi) {
        store.push(`  for (var ei = 0u; ei < ${TM * TN}u; ei = ei + 1u) {`);
        store.push(`    let gm = ${row0} + ei / ${TN}u; let gn = ${col0} + ei % ${TN}u;`);
        store.push(`    if (gm < M && gn < N) { let o = oBase + gm * N + gn; epi(o - ${ref.ooff}, ${vecOut ? 'O[o / 4u][o % 4u]' : 'O[o]'}); }`);
        store.push('  }');
      }
      const elem = (vec: boolean) => (vec ? `vec4<${T}>` : T);
      const bindings = [
        bindingDecl(1, 'A', elem(modeA[0] === 'v'), false),
        bindingDecl(2, 'Bm', elem(modeB[0] === 'v'), false),
        bindingDecl(3, 'O', elem(vecOut), true),
        epi?.code ?? '',
      ].join('\n');
      if (cfg.kind === 'subgroup') {
        const { rows, body } = subgroupBody(modeA, modeB, cfg.block.SG, TM, TN, KU, T, ref);
        return fill(subgroupTemplate, {
          T, PARAMS: p.decl(), SG: cfg.block.SG, TM, TN, S: KU, BINDINGS: bindings, PROLOGUE: prologue,
          ROWS: rows, ACC_DECL: accDecl.join('\n'), BODY: body, STORE: store.join('\n'),
        });
      }
      if (direct) {
        const { rows, body } = directBody(modeA, modeB, TM, TN, KU, T, ref);
        return fill(directTemplate, {
          T, PARAMS: p.decl(), TM, TN, KU, WGX: TX, WGY: TY, BINDINGS: bindings, PROLOGUE: prologue,
          ROWS: rows, ACC_DECL: accDecl.join('\n'), BODY: body, STORE: store.join('\n'),
        });
      }
      const inner: string[] = [];
      for (let i = 0; i < TM / 4; i++) inner.push(`      let a${i} = As[k * ${BM / 4}u + ty * ${TM / 4}u + ${i}u];`);
      for (let j = 0; j < TN / 4; j++) inner.push(`      let b${j} = Bs[k * ${BN / 4}u + tx * ${TN / 4}u + ${j}u];`);
      for (let i = 0; i < TM; i++) {
        for (let j = 0; j < TN / 4; j++) inner.push(`      acc${i}_${j} = acc${i}_${j} + a${i >> 2}[${i & 3}] * b${j};`);
      }
      return fill(template, {
        T, PARAMS: p.decl(), BM, BN, BK, TM, TN, TX, THREADS: threads, BINDINGS: bindings,
        AS_LEN: (BM * BK) / 4, BS_LEN: (BN * BK) / 4,
        PROLOGUE: prologue,
        ACC_DECL: accDecl.join('\n'),
        LOAD_A: loadCode(modeA, 'A', 'As', BM, BK, threads, 'm0', 'M', 'aBase', ref.aRs, ref.aCs, T),
        LOAD_B: loadCode(modeB, 'Bm', 'Bs', BN, BK, threads, 'n0', 'N', 'bBase', ref.bCs, ref.bRs, T),
        INNER: inner.join('\n'),
        STORE: store.join('\n'),
      });
    };
    const grid = Math.min(tiles, maxZ);
    const gy = Math.ceil(tiles / grid);
    const gx = Math.ceil(tiles / gy);
    const variant = readVariant(cfg.kind, modeA, modeB);
    const key = ['mm', JSON.stringify(cfg), modeA, modeB, T, vecOut, KU, p.vec4s, epi?.key ?? ''].join('|');
    ctx.dispatch(ctx.pipeline(key, code, variant, { subgroups: sub }), p, [a.buf, b.buf, out.buf, ...(epi?.bufs ?? [])] as GpuBuf[], [gx, gy, Math.min(B - z0, maxZ)]);
    countVariant(variant, storeVariant(cfg.kind, vecOut));
    epi?.done();
  }
}
