import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, day: vi.fn() } };
});
vi.mock('./GlucoseLine.svelte', async () => ({ default: (await import('../test/GlucoseLineStub.svelte')).default }));

import { ipc } from '../lib/ipc';
import type { DayView } from '../lib/ipc';
import RecentCurve from './RecentCurve.svelte';

const target = { low_mg_dl: 70, high_mg_dl: 180 };
const days: Record<string, DayView> = {
  '2026-11-21': {
    date: '2026-11-21', from: '2026-11-20T23:00:00Z', to: '2026-11-21T23:00:00Z', tz: 'Europe/Paris', target,
    glucose: [{ at: '2026-11-21T21:00:00Z', mg_dl: 150, level: 'value', cgm: true }],
    events: [{ at: '2026-11-21T21:10:00Z', kind: 'insulin', amount: 4 }],
  },
  '2026-11-22': {
    date: '2026-11-22', from: '2026-11-21T23:00:00Z', to: '2026-11-22T23:00:00Z', tz: 'Europe/Paris', target,
    glucose: [{ at: '2026-11-22T09:00:00Z', mg_dl: 60, level: 'value', cgm: false }],
    events: [{ at: '2026-11-22T09:05:00Z', kind: 'carbs', amount: 15 }, { at: '2026-11-22T09:06:00Z', kind: 'hypo', amount: null }],
  },
};
const now = new Date('2026-11-22T10:00:00Z');

beforeEach(() => {
  vi.mocked(ipc.day).mockImplementation(async (d) => days[d!]!);
});
afterEach(() => {
  localStorage.clear();
  vi.mocked(ipc.day).mockReset();
});

describe('RecentCurve', () => {
  it('draws the last 6 hours by default, with the entries as marks (numbers and units)', async () => {
    const { getByTestId } = render(RecentCurve, { unit: 'g/L', tz: 'Europe/Paris', now });
    const stub = await waitFor(() => getByTestId('line-stub'));
    expect(ipc.day).toHaveBeenCalledWith('2026-11-22');
    expect(ipc.day).not.toHaveBeenCalledWith('2026-11-21');
    expect(stub.dataset.points).toBe(String(Date.parse('2026-11-22T09:00:00Z') / 1000));
    expect(stub.dataset.events).toBe('15 g|hypo');
    expect(getByTestId('recent-6').getAttribute('aria-pressed')).toBe('true');
    expect(getByTestId('recent-curve').textContent).toContain('Les 6 dernières heures');
  });

  it('24 hours reads yesterday too, and the choice is remembered for the next time', async () => {
    const first = render(RecentCurve, { unit: 'g/L', tz: 'Europe/Paris', now });
    await fireEvent.click(first.getByTestId('recent-24'));
    await waitFor(() => expect(first.getByTestId('line-stub').dataset.events).toBe('4 U|15 g|hypo'));
    expect(ipc.day).toHaveBeenCalledWith('2026-11-21');
    first.unmount();
    const again = render(RecentCurve, { unit: 'g/L', tz: 'Europe/Paris', now });
    expect(again.getByTestId('recent-curve').dataset.hours).toBe('24');
    expect(again.getByTestId('recent-24').getAttribute('aria-pressed')).toBe('true');
  });

  it('says so when the last hours hold no reading', async () => {
    const { getByTestId } = render(RecentCurve, { unit: 'g/L', tz: 'Europe/Paris', now: new Date('2026-11-22T22:00:00Z') });
    await waitFor(() => expect(getByTestId('recent-curve').textContent).toContain('Pas de glycémie ces 6 dernières heures'));
  });

  it('a read that fails says the data is intact', async () => {
    vi.mocked(ipc.day).mockRejectedValue(new Error('locked'));
    const { getByTestId } = render(RecentCurve, { unit: 'g/L', tz: 'Europe/Paris', now });
    await waitFor(() => expect(getByTestId('recent-curve').textContent).toContain('vos données sont intactes'));
  });
});
