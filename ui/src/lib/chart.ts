// Helpers shared by the charts: readings in the display unit, axis labels, the target band, and
// render timings exposed to the e2e benchmark (window.__ilotPerf).

import type uPlot from 'uplot';
import type { Reading } from './ipc';
import { formatNumber, fromMgDl, displayDecimals, type Unit } from './units';

/** The charts' vertical span in mg/dL (the AGP report's usual 40–400 mg/dL). LO and HI are
 * drawn on its edges: the chart shows where they are, never a number for them. */
export const CHART_MG_DL = { min: 40, max: 400 } as const;

export function plotValue(r: Reading | null, unit: Unit): number | null {
  if (!r) return null;
  if (r.level === 'lo') return fromMgDl(CHART_MG_DL.min, unit);
  if (r.level === 'hi') return fromMgDl(CHART_MG_DL.max, unit);
  return r.mg_dl === null ? null : fromMgDl(r.mg_dl, unit);
}

export function yRange(unit: Unit): [number, number] {
  return [fromMgDl(CHART_MG_DL.min, unit), fromMgDl(CHART_MG_DL.max, unit)];
}

export function yValues(unit: Unit, lang: string) {
  const d = Math.max(0, displayDecimals(unit) - 1);
  return (_u: uPlot, splits: number[]) => splits.map((v) => formatNumber(v, d, lang));
}

/** Shades the target range behind the series. */
export function targetBand(lowMgDl: number, highMgDl: number, unit: Unit) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const top = u.valToPos(fromMgDl(highMgDl, unit), 'y', true);
    const bottom = u.valToPos(fromMgDl(lowMgDl, unit), 'y', true);
    ctx.save();
    ctx.fillStyle = 'rgba(46, 125, 50, 0.12)';
    ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
    ctx.strokeStyle = 'rgba(46, 125, 50, 0.7)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(u.bbox.left, top);
    ctx.lineTo(u.bbox.left + u.bbox.width, top);
    ctx.moveTo(u.bbox.left, bottom);
    ctx.lineTo(u.bbox.left + u.bbox.width, bottom);
    ctx.stroke();
    ctx.restore();
  };
}

export interface PerfRecord {
  ms: number;
  points: number;
}

declare global {
  interface Window {
    __ilotPerf?: Record<string, PerfRecord>;
  }
}

export function recordPerf(name: string, ms: number, points: number): void {
  if (typeof window === 'undefined') return;
  window.__ilotPerf = { ...(window.__ilotPerf ?? {}), [name]: { ms, points } };
}

/** Width and height (px) for a chart filling `el`, `rem` tall. */
export function chartSize(el: HTMLElement, rem: number): { width: number; height: number } {
  const fontPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  return { width: Math.max(200, el.clientWidth), height: Math.round(rem * fontPx) };
}

export interface LinePoint {
  /** Seconds since the epoch. */
  t: number;
  /** mg/dL, or null for LO/HI. */
  mgDl: number | null;
  level: 'value' | 'lo' | 'hi';
  cgm: boolean;
}

export interface LineEvent {
  t: number;
  label: string;
}

/** Time-axis labels in the patient's zone and language: hours for a day, dates beyond. */
export function timeValues(tz: string, lang: string) {
  const loc = lang === 'en' ? 'en-GB' : 'fr-FR';
  const hours = new Intl.DateTimeFormat(loc, { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const days = new Intl.DateTimeFormat(loc, { timeZone: tz, day: 'numeric', month: 'short' });
  return (u: uPlot, splits: number[]) => {
    const span = (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0);
    const f = span <= 1.5 * 86400 ? hours : days;
    return splits.map((s) => f.format(new Date(s * 1000)));
  };
}

/** A treatment mark on a glucose curve, written as a number with its unit (fonts with emoji are
 *  not everywhere): "4 U", "30 g", "20 min", "hypo". */
export function eventLabel(kind: string, amount: number | null, lang: string, t: (key: string) => string): string {
  const n = amount === null ? '' : formatNumber(amount, Number.isInteger(amount) ? 0 : 1, lang);
  switch (kind) {
    case 'insulin': return `${n} U`;
    case 'carbs': return `${n} g`;
    case 'activity': return `${n} min`;
    default: return t('charts.mark.hypo');
  }
}
