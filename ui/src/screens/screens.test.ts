// Screens that read the shell, with the IPC module replaced by fixed answers.
import { describe, expect, it, vi } from 'vitest';
import { render } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, logbook: vi.fn(), observance: vi.fn(), entryHistory: vi.fn() } };
});

import { ipc } from '../lib/ipc';
import type { EntryView, ObservanceView, Period } from '../lib/ipc';
import LogbookScreen from './LogbookScreen.svelte';
import ObservanceScreen from './ObservanceScreen.svelte';

const glucose: EntryView = {
  id: 12,
  version: 2,
  at: '2026-11-22T08:05:00+01:00',
  recorded_at: '2026-11-22T09:30:00Z',
  corrected_at: '2026-11-22T09:30:00Z',
  reason: 'mal lu',
  deleted: false,
  source: 'manual',
  device: null,
  kind: 'glucose',
  detail: { type: 'glucose', level: { level: 'value', glucose: { value: 1.32, unit: 'g/L' } }, reading_type: 'capillary', context: 'fasting' },
  glucose: { mg_dl: 132, level: 'value' },
};

describe('LogbookScreen', () => {
  it('lists a day with its sensor summary and shows a correction visibly', async () => {
    vi.mocked(ipc.logbook).mockResolvedValue({
      days: [
        {
          date: '2026-11-22',
          entries: [glucose],
          sensor: { readings: 288, min_mg_dl: 62, max_mg_dl: 214, mean_mg_dl: 131.4, lo: 0, hi: 0 },
        },
      ],
      earlier: '2026-11-15',
    });
    const { findByTestId, getByText, container } = render(LogbookScreen, { unit: 'g/L', tz: 'Europe/Paris', onedit: () => {} });
    const entry = await findByTestId('logbook-entry');
    expect(entry.textContent).toContain('08:05');
    expect(entry.textContent).toContain('1,32 g/L · à jeun');
    expect(entry.textContent).toMatch(/corrigé le 22 novembre à 10:30/);
    expect((await findByTestId('sensor-summary')).textContent).toContain('Capteur : 288 mesures');
    expect(container.textContent).toContain('de 0,62 g/L à 2,14 g/L, moyenne 1,31 g/L');
    expect(getByText('Jours précédents')).toBeTruthy();
    expect(ipc.logbook).toHaveBeenCalledWith(null, 7, null);
  });
});

function period(over: Partial<Period>): Period {
  return {
    number: 1, first_day: '2026-10-01', last_day: '2026-10-30', starts_at: '', ends_at: '', days: 30,
    expected: 6048, glucose: 5000, scans: null, insulin: 0, other: 0, received: 5000, ratio: 0.82,
    status: 'complete', billable: true, not_billable: null, ...over,
  };
}

describe('ObservanceScreen', () => {
  it('shows this period as a plain bar with quiet thanks, and the past ones', async () => {
    const view: ObservanceView = {
      tz: 'Europe/Paris',
      prescription: {} as ObservanceView['prescription'],
      observance: {
        periods: [period({}), period({ number: 2, first_day: '2026-10-31', last_day: '2026-11-29', ratio: 0.823, received: 3000, expected: 3650, status: 'in-progress' })],
        accompaniment: { status: 'done', first_session: '2026-10-03T13:00:00Z' },
        checkpoints: [],
        series: [],
      },
    };
    vi.mocked(ipc.observance).mockResolvedValue(view);
    const { findByTestId, container } = render(ObservanceScreen);
    const current = await findByTestId('observance-current');
    expect(current.textContent).toContain('Cette période : 82 % — merci');
    expect(current.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')).toBe('82');
    expect(container.textContent).toContain('Séance d\'éducation faite le samedi 3 octobre');
    expect(container.textContent).toContain('complète');
  });

  it('explains that follow-up starts with the prescription', async () => {
    vi.mocked(ipc.observance).mockResolvedValue({ tz: 'Europe/Paris', prescription: null, observance: null });
    const { findByText } = render(ObservanceScreen);
    expect(await findByText(/commencera avec la prescription/)).toBeTruthy();
  });
});
