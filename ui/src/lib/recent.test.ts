import { describe, expect, it } from 'vitest';
import { datesFor, recentWindow } from './recent';
import type { DayView } from './ipc';

const target = { low_mg_dl: 70, high_mg_dl: 180 };
function day(date: string, glucose: [string, number][], events: [string, DayView['events'][number]['kind'], number | null][] = []): DayView {
  return {
    date,
    from: `${date}T00:00:00Z`,
    to: `${date}T23:59:59Z`,
    tz: 'Europe/Paris',
    target,
    glucose: glucose.map(([at, mg]) => ({ at, mg_dl: mg, level: 'value' as const, cgm: true })),
    events: events.map(([at, kind, amount]) => ({ at, kind, amount })),
  };
}

describe('datesFor', () => {
  it('one local date when the window stays inside today', () => {
    expect(datesFor(new Date('2026-11-22T19:30:00Z'), 6, 'Europe/Paris')).toEqual(['2026-11-22']);
  });

  it('yesterday too when the window crosses local midnight (in the patient zone, not UTC)', () => {
    // 01:30 in Paris = 00:30 UTC: 3 hours back is 22:30 the day before.
    expect(datesFor(new Date('2026-11-22T00:30:00Z'), 3, 'Europe/Paris')).toEqual(['2026-11-21', '2026-11-22']);
    expect(datesFor(new Date('2026-11-22T19:30:00Z'), 24, 'Europe/Paris')).toEqual(['2026-11-21', '2026-11-22']);
  });

  it('three dates when 24 hours span a short day (spring change)', () => {
    // 29 March 2026 in Paris lasts 23 hours: 00:30 on the 30th minus 24 h is 23:30 on the 28th.
    expect(datesFor(new Date('2026-03-29T22:30:00Z'), 24, 'Europe/Paris')).toEqual(['2026-03-28', '2026-03-29', '2026-03-30']);
  });
});

describe('recentWindow', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const days = [
    day('2026-11-21', [['2026-11-21T20:00:00Z', 150]], [['2026-11-21T20:05:00Z', 'insulin', 4]]),
    day('2026-11-22', [['2026-11-22T11:00:00Z', 60], ['2026-11-22T06:30:00Z', 110], ['2026-11-22T12:30:00Z', 99]], [
      ['2026-11-22T11:05:00Z', 'carbs', 15],
      ['2026-11-22T05:00:00Z', 'hypo', null],
    ]),
  ];
  const label = (k: string, a: number | null) => `${k}:${a ?? ''}`;

  it('keeps the readings and marks of the last hours only, in time order', () => {
    const w = recentWindow(days, now, 6, label);
    expect(w.range).toEqual([now.getTime() / 1000 - 6 * 3600, now.getTime() / 1000]);
    expect(w.points.map((p) => p.mgDl)).toEqual([110, 60]);
    expect(w.events.map((e) => e.label)).toEqual(['carbs:15']);
  });

  it('reaches into yesterday for 24 hours', () => {
    const w = recentWindow(days, now, 24, label);
    expect(w.points.map((p) => p.mgDl)).toEqual([150, 110, 60]);
    expect(w.events.map((e) => e.label)).toEqual(['insulin:4', 'hypo:', 'carbs:15']);
  });
});
