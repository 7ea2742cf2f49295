// The home curve: the last 3, 6, 12 or 24 hours, built from the local days the window touches
// (the shell's `day` view, one call per local date), with the patient's treatment entries as marks.

import type { DayView } from './ipc';
import type { LineEvent, LinePoint } from './chart';
import { addDays, localParts } from './time';

/** The local dates (YYYY-MM-DD, in `tz`) that the window of `hours` before `now` touches, oldest first. */
export function datesFor(now: Date, hours: number, tz: string): string[] {
  const first = localParts(new Date(now.getTime() - hours * 3_600_000), tz).date;
  const last = localParts(now, tz).date;
  const out = [first];
  while (out[out.length - 1]! < last && out.length < 4) out.push(addDays(out[out.length - 1]!, 1));
  return out;
}

/** The readings and marks of `days` that fall in [now − hours, now], in time order. */
export function recentWindow(
  days: DayView[],
  now: Date,
  hours: number,
  label: (kind: string, amount: number | null) => string,
): { range: [number, number]; points: LinePoint[]; events: LineEvent[] } {
  const to = now.getTime() / 1000;
  const from = to - hours * 3600;
  const inside = (t: number) => t >= from && t <= to;
  const points: LinePoint[] = [];
  const events: LineEvent[] = [];
  for (const d of days) {
    for (const p of d.glucose) {
      const t = Date.parse(p.at) / 1000;
      if (inside(t)) points.push({ t, mgDl: p.mg_dl, level: p.level, cgm: p.cgm });
    }
    for (const e of d.events) {
      const t = Date.parse(e.at) / 1000;
      if (inside(t)) events.push({ t, label: label(e.kind, e.amount) });
    }
  }
  points.sort((a, b) => a.t - b.t);
  events.sort((a, b) => a.t - b.t);
  return { range: [from, to], points, events };
}
