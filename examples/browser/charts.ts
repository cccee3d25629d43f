/** The demo's two charts: the loss curve (canvas, log scale) and the cpu-vs-webgpu bars (SVG). */
import type { CompareRow } from './state.js';

const INK = '#1f2430', GRID = '#e3e6ec', MUTED = '#6b7280';
export const COLORS = { cpu: '#9aa3b2', webgpu: '#3b6cf6' } as const;

/** Draws `losses` (step 1..n) against a 1..steps x axis with a log10 y axis. */
export function drawLossCurve(canvas: HTMLCanvasElement, losses: readonly number[], steps: number): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pad = { l: 60, r: 14, t: 12, b: 40 };
  const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  g.font = '11px ui-sans-serif, system-ui, sans-serif';

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
  g.textAlign = 'center';
  g.textBaseline = 'top';
  // About five x ticks at 1, 2 or 5 times a power of ten.
  const raw = Math.max(1, steps / 5), p10 = 10 ** Math.floor(Math.log10(raw));
  const xStep = [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= raw)!;
  for (let s = 0; s <= steps; s += xStep) {
    const xx = x(Math.max(1, s));
    g.strokeStyle = GRID;
    g.beginPath(); g.moveTo(xx, pad.t); g.lineTo(xx, pad.t + ph); g.stroke();
    g.fillStyle = MUTED;
    g.fillText(String(s), xx, pad.t + ph + 6);
  }
  g.strokeStyle = INK;
  g.strokeRect(pad.l + 0.5, pad.t + 0.5, pw, ph);
  g.fillStyle = MUTED;
  g.fillText('step', pad.l + pw / 2, pad.t + ph + 22);
  g.save();
  g.translate(12, pad.t + ph / 2);
  g.rotate(-Math.PI / 2);
  g.textAlign = 'center';
  g.fillText('loss', 0, 0);
  g.restore();
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
