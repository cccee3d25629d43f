/** What a bench run produces: terminal tables, the JSON record and the SVG chart. */
import { sizeLabel, type Case, type Device, type Section, type Unit } from './cases.js';
import { fmtTime, type Timing } from './measure.js';

/** One case on one device. */
export interface Result extends Pick<Case, 'section' | 'series' | 'label' | 'x' | 'unit' | 'work'> {
  device: Device;
  status: 'ok' | 'failed' | 'skipped';
  timing?: Timing;
  /** The figure, in `unit`, from the median time. */
  value?: number;
  /** Why it failed or was skipped. */
  message?: string;
  /** Fewer samples than asked, the net's loss and launch count, ... */
  note?: string;
  extra?: Record<string, number | number[]>;
}

export const SECTION_TITLES: Record<Section, string> = {
  matmul: 'matmul: C = A·B, float32 (GFLOP/s = 2·M·K·N / median)',
  elementwise: 'elementwise: a.add(b) and a.clamp(-0.5, 0.5), float32 (GB/s = bytes read and written / median)',
  reduce: 'sum: x.sum() and x.sum(1) over a rows×cols tensor, float32 (GB/s = bytes read / median)',
  seed: "the seed's two-layer net: 64×1000 → 100 → 10, each step forward, backward, in-place update, zero_()",
  launch: 'launch overhead: x = x.add(1) chained, ending with one read (µs/op = median / ops)',
};

/** The figure of a median time, in a unit where bigger is better for throughputs. */
export function figure(unit: Unit, work: number, medianMs: number): number {
  switch (unit) {
    case 'GFLOP/s':
    case 'GB/s':
      return work / medianMs / 1e6;
    case 'ms/step':
      return medianMs / work;
    case 'µs/op':
      return (medianMs * 1000) / work;
    default:
      return unit satisfies never;
  }
}

export function fmtFigure(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 0.01) return v.toPrecision(3);
  return v.toExponential(2);
}

/** webgpu speed over cpu speed (cpu median / webgpu median): above 1, webgpu is faster. */
export function speedRatio(cpu: Result | undefined, gpu: Result | undefined): number | null {
  if (!cpu?.timing || !gpu?.timing || cpu.status !== 'ok' || gpu.status !== 'ok') return null;
  return cpu.timing.median / gpu.timing.median;
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? '')].length)));
  return cells
    .map((r) => r.map((v, c) => (c === r.length - 1 ? v : v + ' '.repeat(widths[c]! - [...v].length))).join('  ').trimEnd())
    .join('\n');
}

/** The terminal table of one section: a row per case and device. */
export function sectionTable(section: Section, results: readonly Result[]): string {
  const rows = results.filter((r) => r.section === section);
  if (!rows.length) return '';
  const unit = rows[0]!.unit;
  const cells: string[][] = [['case', 'size', 'device', 'median', 'min–max', unit, 'gpu÷cpu', 'note']];
  for (const r of rows) {
    const t = r.timing;
    const other = rows.find((o) => o !== r && o.series === r.series && o.label === r.label);
    const ratio = r.device === 'webgpu' ? speedRatio(other, r) : null;
    const status = r.status === 'failed' ? `FAILED: ${r.message}` : r.status === 'skipped' ? r.message ?? 'skipped' : '';
    cells.push([
      r.series,
      r.label,
      r.device,
      t && r.status !== 'failed' ? fmtTime(t.median) : '—',
      t && r.status !== 'failed' ? `${fmtTime(t.min)}–${fmtTime(t.max)}` : '—',
      r.value !== undefined && r.status === 'ok' ? fmtFigure(r.value) : '—',
      ratio === null ? '' : `${fmtFigure(ratio)}×`,
      [status, r.note ?? ''].filter(Boolean).join('; '),
    ]);
  }
  return `${SECTION_TITLES[section]}\n${pad(cells)}\n`;
}

// ---- SVG ---------------------------------------------------------------------------------------

const COLORS: Record<Device, string> = { cpu: '#1f77b4', webgpu: '#d62728' };
const DASHES = ['', '6 4', '2 3'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function fmtTick(v: number): string {
  return v >= 1 ? String(+v.toPrecision(3)) : String(+v.toPrecision(1));
}

/** Throughput against size on log-log axes, one line per series and device. */
function linePanel(box: Box, title: string, unit: string, rows: readonly Result[], xs: readonly number[], xLabel: (x: number) => string): string {
  const out: string[] = [];
  // The legend is a row (or two) under the x axis, so it never hides a line.
  const series = [...new Set(rows.map((r) => r.series))];
  const entries = series.flatMap((s, si) =>
    (['cpu', 'webgpu'] as const)
      .filter((dev) => rows.some((r) => r.series === s && r.device === dev))
      .map((dev) => ({ s, dev, dash: DASHES[si % DASHES.length]!, text: series.length > 1 ? `${dev} ${s}` : dev })),
  );
  // Entries flow left to right (about 6 px a character) and wrap.
  const slots: { dx: number; row: number }[] = [];
  let cx = 0, row = 0;
  const avail = box.w - 70;
  for (const e of entries) {
    const w = 34 + 6.2 * e.text.length;
    if (cx > 0 && cx + w > avail) [cx, row] = [0, row + 1];
    slots.push({ dx: cx, row });
    cx += w;
  }
  const legendRows = row + 1;
  const L = 58, R = 12, T = 38, B = 34 + 15 * legendRows;
  const px = box.x + L, py = box.y + T, pw = box.w - L - R, ph = box.h - T - B;
  out.push(`<text x="${box.x + box.w / 2}" y="${box.y + 16}" class="title">${esc(title)}</text>`);
  const ok = rows.filter((r) => r.status === 'ok' && r.value !== undefined && r.value > 0);
  const xsSorted = [...new Set(xs)].sort((a, b) => a - b);
  if (!ok.length || !xsSorted.length) {
    out.push(`<text x="${box.x + box.w / 2}" y="${box.y + box.h / 2}" class="note">no results</text>`);
    return out.join('\n');
  }
  const vals = ok.map((r) => r.value!);
  // Decades around the data, with a little headroom so no point sits on the frame.
  let ylo = Math.floor(Math.log10(Math.min(...vals) / 1.2));
  let yhi = Math.ceil(Math.log10(Math.max(...vals) * 1.2));
  if (yhi - ylo < 2) ylo--;
  const xlo = Math.log2(xsSorted[0]!), xhi = Math.log2(xsSorted[xsSorted.length - 1]!);
  const X = (x: number) => px + (xhi === xlo ? pw / 2 : ((Math.log2(x) - xlo) / (xhi - xlo)) * pw);
  const Y = (y: number) => py + ph - ((Math.log10(y) - ylo) / (yhi - ylo)) * ph;
  // Grid: decades (and 2, 5 when the range is short), and the sizes measured.
  for (let d = ylo; d <= yhi; d++) {
    for (const m of yhi - ylo <= 3 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** d;
      if (Math.log10(v) > yhi + 1e-9) continue;
      out.push(`<line x1="${px}" x2="${px + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" class="${m === 1 ? 'grid' : 'grid minor'}"/>`);
      out.push(`<text x="${px - 5}" y="${(Y(v) + 4).toFixed(1)}" class="ytick">${fmtTick(v)}</text>`);
    }
  }
  for (const x of xsSorted) {
    out.push(`<line x1="${X(x).toFixed(1)}" x2="${X(x).toFixed(1)}" y1="${py}" y2="${py + ph}" class="grid minor"/>`);
    out.push(`<text x="${X(x).toFixed(1)}" y="${py + ph + 15}" class="xtick">${esc(xLabel(x))}</text>`);
  }
  out.push(`<rect x="${px}" y="${py}" width="${pw}" height="${ph}" class="frame"/>`);
  out.push(`<text x="${box.x + 14}" y="${py + ph / 2}" class="axis" transform="rotate(-90 ${box.x + 14} ${py + ph / 2})">${esc(unit)}</text>`);
  for (const [i, e] of entries.entries()) {
    const pts = ok.filter((r) => r.series === e.s && r.device === e.dev).sort((a, b) => a.x - b.x);
    const dash = e.dash ? ` stroke-dasharray="${e.dash}"` : '';
    if (pts.length) {
      const d = pts.map((r, k) => `${k ? 'L' : 'M'}${X(r.x).toFixed(1)},${Y(r.value!).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" stroke="${COLORS[e.dev]}"${dash} class="line"/>`);
      for (const r of pts) {
        const tip = `${e.dev} ${e.s} ${r.label}: ${fmtFigure(r.value!)} ${unit}`;
        out.push(`<circle cx="${X(r.x).toFixed(1)}" cy="${Y(r.value!).toFixed(1)}" r="3" fill="${COLORS[e.dev]}"><title>${esc(tip)}</title></circle>`);
      }
    }
    const lx = px + slots[i]!.dx, ly = py + ph + 32 + slots[i]!.row * 15;
    out.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[e.dev]}"${dash} class="line"/>`);
    out.push(`<text x="${lx + 24}" y="${ly}" class="legend">${esc(e.text)}</text>`);
  }
  const skipped = rows.filter((r) => r.status !== 'ok');
  if (skipped.length) {
    const text = skipped.map((r) => `${r.device} ${r.label}: ${r.status}`).join(', ');
    out.push(`<text x="${px + pw}" y="${py - 4}" class="note end">${esc(text.length > 80 ? `${text.slice(0, 77)}...` : text)}</text>`);
  }
  return out.join('\n');
}

/** Horizontal bars: one group per case (the net, the launch chain, the seed's matmuls). */
function barPanel(box: Box, title: string, groups: { name: string; unit: string; rows: Result[] }[]): string {
  const out: string[] = [`<text x="${box.x + box.w / 2}" y="${box.y + 16}" class="title">${esc(title)}</text>`];
  const L = 12, T = 30;
  let y = box.y + T;
  const barH = 14, maxW = box.w - L - 150;
  for (const g of groups) {
    out.push(`<text x="${box.x + L}" y="${y + 10}" class="legend bold">${esc(`${g.name} (${g.unit})`)}</text>`);
    y += 16;
    const max = Math.max(...g.rows.map((r) => (r.status === 'ok' ? r.value ?? 0 : 0)), 1e-12);
    for (const r of g.rows) {
      const v = r.status === 'ok' ? r.value ?? 0 : 0;
      const w = (v / max) * maxW;
      out.push(`<rect x="${box.x + L + 52}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[r.device]}"/>`);
      out.push(`<text x="${box.x + L + 48}" y="${y + 11}" class="ytick">${r.device}</text>`);
      const text = r.status === 'ok' ? fmtFigure(v) : r.status;
      out.push(`<text x="${box.x + L + 56 + w}" y="${y + 11}" class="legend">${esc(text)}</text>`);
      y += barH + 3;
    }
    y += 8;
  }
  return out.join('\n');
}

/** The whole chart: one panel per section, sized for a README or a browser tab. */
export function chartSvg(results: readonly Result[], heading: string): string {
  const W = 1040, ph = 330, pw = W / 2;
  const by = (s: Section) => results.filter((r) => r.section === s);
  const xsOf = (s: Section) => by(s).filter((r) => r.x > 0).map((r) => r.x);
  const panels: string[] = [
    linePanel({ x: 0, y: 40, w: pw, h: ph }, 'matmul, square N×N·N×N', 'GFLOP/s', by('matmul').filter((r) => r.x > 0), xsOf('matmul'), String),
    linePanel({ x: pw, y: 40, w: pw, h: ph }, 'elementwise (float32)', 'GB/s', by('elementwise'), xsOf('elementwise'), sizeLabel),
    linePanel({ x: 0, y: 40 + ph, w: pw, h: ph }, 'sum (float32)', 'GB/s', by('reduce'), xsOf('reduce'), sizeLabel),
  ];
  const groups: { name: string; unit: string; rows: Result[] }[] = [];
  for (const s of ['seed', 'launch'] as const) {
    for (const label of [...new Set(by(s).map((r) => r.label))]) {
      const rows = by(s).filter((r) => r.label === label);
      groups.push({ name: `${s === 'seed' ? 'two-layer net' : 'launch chain'}, ${label}`, unit: `${rows[0]!.unit}, lower is better`, rows });
    }
  }
  for (const label of [...new Set(by('matmul').filter((r) => r.x === 0).map((r) => r.label))]) {
    const rows = by('matmul').filter((r) => r.label === label);
    groups.push({ name: `matmul ${label}`, unit: 'GFLOP/s', rows });
  }
  panels.push(barPanel({ x: pw, y: 40 + ph, w: pw, h: ph }, 'the seed: net, launches, its matmuls', groups));
  const H = 40 + 2 * ph + 10 + Math.max(0, groups.reduce((n, g) => n + 16 + 17 * g.rows.length + 8, 30) - ph);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">
<style>
  .title { font-size: 13px; font-weight: 600; text-anchor: middle; }
  .heading { font-size: 14px; font-weight: 600; }
  .sub { font-size: 11px; fill: #555; }
  .grid { stroke: #ddd; stroke-width: 1; }
  .minor { stroke: #eee; }
  .frame { fill: none; stroke: #888; }
  .line { fill: none; stroke-width: 2; }
  .xtick { font-size: 10px; text-anchor: middle; fill: #333; }
  .ytick { font-size: 10px; text-anchor: end; fill: #333; }
  .axis { font-size: 11px; text-anchor: middle; fill: #333; }
  .legend { font-size: 11px; fill: #222; }
  .bold { font-weight: 600; }
  .note { font-size: 10px; fill: #a33; text-anchor: middle; }
  .end { text-anchor: end; }
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="18" class="heading">${esc(heading.split('\n')[0]!)}</text>
<text x="12" y="33" class="sub">${esc(heading.split('\n')[1] ?? '')}</text>
${panels.join('\n')}
</svg>
`;
}
