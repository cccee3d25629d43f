/**
 * The demo's charts: the seed net's loss curve (canvas, log scale), the classifier's loss and
 * accuracy per epoch (canvas), and the cpu-vs-webgpu bars (SVG).
 */
import type { EpochStats } from '../classifier.js';
import type { CompareRow } from './state.js';

const INK = '#1f2430', GRID = '#e3e6ec', MUTED = '#6b7280';
export const COLORS = { cpu: '#9aa3b2', webgpu: '#3b6cf6', train: '#16a34a', test: '#ea580c' } as const;

/** A canvas sized to its CSS box at the screen's pixel ratio, cleared, with the plot area's box. */
function prepare(canvas: HTMLCanvasElement, pad: { l: number; r: number; t: number; b: number }) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px ui-sans-serif, system-ui, sans-serif';
  g.lineWidth = 1;
  g.setLineDash([]);
  return { g, pw: w - pad.l - pad.r, ph: h - pad.t - pad.b };
}

/** About five x ticks at 1, 2 or 5 times a power of ten, over 0..n. */
function xTickStep(n: number): number {
  const raw = Math.max(1, n / 5), p10 = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= raw)!;
}

/** Vertical grid lines with their labels under the plot, the plot's frame, and the x axis's name. */
function xAxis(g: CanvasRenderingContext2D, n: number, x: (i: number) => number, box: { l: number; t: number; pw: number; ph: number }, name: string): void {
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const step = xTickStep(n);
  for (let s = 0; s <= n; s += step) {
    const xx = x(Math.max(1, s));
    g.strokeStyle = GRID;
    g.beginPath(); g.moveTo(xx, box.t); g.lineTo(xx, box.t + box.ph); g.stroke();
    g.fillStyle = MUTED;
    g.fillText(String(Math.max(1, s)), xx, box.t + box.ph + 6);
  }
  g.strokeStyle = INK;
  g.strokeRect(box.l + 0.5, box.t + 0.5, box.pw, box.ph);
  g.fillStyle = MUTED;
  g.fillText(name, box.l + box.pw / 2, box.t + box.ph + 22);
}

/** A y axis's name, written upwards, starting at `x` and drawn to its right (or its left: `side`). */
function yName(g: CanvasRenderingContext2D, name: string, x: number, yMid: number, color = MUTED, side: 'right' | 'left' = 'right'): void {
  g.save();
  g.translate(x, yMid);
  g.rotate(-Math.PI / 2);
  g.textAlign = 'center';
  g.textBaseline = side === 'right' ? 'top' : 'bottom';
  g.fillStyle = color;
  g.fillText(name, 0, 0);
  g.restore();
}

/** Draws `losses` (step 1..n) against a 1..steps x axis with a log10 y axis. */
export function drawLossCurve(canvas: HTMLCanvasElement, losses: readonly number[], steps: number): void {
  const pad = { l: 60, r: 14, t: 12, b: 40 };
  const { g, pw, ph } = prepare(canvas, pad);

  const finite = losses.filter((v) => Number.isFinite(v) && v > 0);
  const lo = finite.length ? Math.floor(Math.log10(Math.min(...finite))) : 0;
  const hi = finite.length ? Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...finite)))) : 1;
  const x = (step: number) => pad.l + ((step - 1) / Math.max(1, steps - 1)) * pw;
  const y = (v: number) => pad.t + (1 - (Math.log10(v) - lo) / (hi - lo)) * ph;

  // Decade grid lines, labelled 1e3, 1e4, ... (every other one when there are many).
  const every = hi - lo > 8 ? 2 : 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let d = lo; d <= hi; d++) {
    const yy = y(10 ** d);
    g.strokeStyle = GRID;
    g.beginPath(); g.moveTo(pad.l, yy); g.lineTo(pad.l + pw, yy); g.stroke();
    if ((d - lo) % every === 0) { g.fillStyle = MUTED; g.fillText(`1e${d}`, pad.l - 6, yy); }
  }
  xAxis(g, steps, x, { l: pad.l, t: pad.t, pw, ph }, 'step');
  yName(g, 'loss', 12, pad.t + ph / 2);
  if (!finite.length) return;

  g.strokeStyle = COLORS.webgpu;
  g.lineWidth = 2;
  g.lineJoin = 'round';
  g.beginPath();
  let started = false;
  losses.forEach((v, i) => {
    if (!(Number.isFinite(v) && v > 0)) return;
    if (started) g.lineTo(x(i + 1), y(v)); else g.moveTo(x(i + 1), y(v));
    started = true;
  });
  g.stroke();
  g.lineWidth = 1;
  const last = losses.length - 1, v = losses[last]!;
  if (Number.isFinite(v) && v > 0) {
    g.fillStyle = COLORS.webgpu;
    g.beginPath(); g.arc(x(last + 1), y(v), 3.5, 0, 2 * Math.PI); g.fill();
  }
}

/** The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten at or above v: a top whose quarters read well. */
function niceTop(v: number): number {
  if (!(v > 0)) return 1;
  const p10 = 10 ** Math.floor(Math.log10(v));
  return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p10).find((t) => t >= v * (1 - 1e-9))!;
}

/**
 * The classifier's epochs 1..`epochs`: the mean training loss on a linear left axis, and the train
 * and test accuracy (0-100%) on the right axis.
 */
export function drawClassifierChart(canvas: HTMLCanvasElement, history: readonly EpochStats[], epochs: number): void {
  const pad = { l: 52, r: 52, t: 12, b: 40 };
  const { g, pw, ph } = prepare(canvas, pad);
  const losses = history.map((s) => s.loss).filter(Number.isFinite);
  const top = niceTop(Math.max(0, ...losses));
  const x = (epoch: number) => pad.l + ((epoch - 1) / Math.max(1, epochs - 1)) * pw;
  const yFrac = (f: number) => pad.t + (1 - f) * ph;

  // Quarter grid lines: the loss on the left, the accuracy on the right.
  g.textBaseline = 'middle';
  for (let q = 0; q <= 4; q++) {
    const yy = yFrac(q / 4);
    g.strokeStyle = GRID;
    g.beginPath(); g.moveTo(pad.l, yy); g.lineTo(pad.l + pw, yy); g.stroke();
    g.fillStyle = MUTED;
    g.textAlign = 'right';
    g.fillText(String(Number(((top * q) / 4).toPrecision(3))), pad.l - 6, yy);
    g.textAlign = 'left';
    g.fillText(`${25 * q}%`, pad.l + pw + 6, yy);
  }
  xAxis(g, epochs, x, { l: pad.l, t: pad.t, pw, ph }, 'epoch');
  yName(g, 'loss', 8, pad.t + ph / 2, COLORS.webgpu);
  yName(g, 'accuracy', pad.l + pw + pad.r - 6, pad.t + ph / 2, MUTED, 'left');

  const series: [number[], number, string, number[]][] = [
    [history.map((s) => s.loss / top), 2, COLORS.webgpu, []],
    [history.map((s) => s.trainAccuracy), 2, COLORS.train, []],
    [history.map((s) => s.testAccuracy), 2, COLORS.test, [6, 4]],
  ];
  g.lineJoin = 'round';
  for (const [fracs, width, color, dash] of series) {
    g.strokeStyle = color;
    g.fillStyle = color;
    g.lineWidth = width;
    g.setLineDash(dash);
    g.beginPath();
    fracs.forEach((f, i) => (i ? g.lineTo(x(i + 1), yFrac(f)) : g.moveTo(x(i + 1), yFrac(f))));
    g.stroke();
    g.setLineDash([]);
    fracs.forEach((f, i) => { g.beginPath(); g.arc(x(i + 1), yFrac(f), i === fracs.length - 1 ? 3.5 : 2, 0, 2 * Math.PI); g.fill(); });
  }
  g.lineWidth = 1;
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);

/** Grouped horizontal bars, one group per row, each scaled to the slower device of its row. */
export function renderBars(svg: SVGSVGElement, rows: readonly CompareRow[]): void {
  const W = 600, labelW = 180, barH = 16, gap = 4, groupGap = 18, valueW = 150;
  const groupH = 2 * barH + gap + 14;
  const H = rows.length * (groupH + groupGap) + 4;
  const parts: string[] = [];
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  rows.forEach((r, i) => {
    const top = i * (groupH + groupGap) + 4;
    const max = Math.max(r.cpuMs ?? 0, r.webgpuMs ?? 0) || 1;
    parts.push(`<text x="0" y="${top + barH}" class="row">${esc(r.name)}</text>`);
    (['cpu', 'webgpu'] as const).forEach((dev, k) => {
      const ms = dev === 'cpu' ? r.cpuMs : r.webgpuMs;
      const yy = top + k * (barH + gap);
      const bw = ms === null ? 0 : Math.max(2, ((W - labelW - valueW) * ms) / max);
      parts.push(`<rect x="${labelW}" y="${yy}" width="${bw.toFixed(1)}" height="${barH}" rx="3" fill="${COLORS[dev]}"/>`);
      parts.push(`<text x="${labelW + bw + 6}" y="${yy + barH - 4}" class="val">${dev} ${ms === null ? '—' : fmtMs(ms)}</text>`);
    });
    const speed = r.cpuMs && r.webgpuMs ? r.cpuMs / r.webgpuMs : null;
    const verdict = speed === null ? '' : speed >= 1 ? `webgpu ${speed.toFixed(1)}× faster` : `cpu ${(1 / speed).toFixed(1)}× faster`;
    parts.push(`<text x="${labelW}" y="${top + 2 * barH + gap + 13}" class="note">${esc([verdict, r.note].filter(Boolean).join(' · '))}</text>`);
  });
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('height', String(H));
  svg.innerHTML = parts.join('');
}
