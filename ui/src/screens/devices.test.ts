import { describe, expect, it, vi } from 'vitest';
import { render } from '@testing-library/svelte';

vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn(async () => () => {}) }));
vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, devices: vi.fn() } };
});

import { ipc } from '../lib/ipc';
import DevicesScreen from './DevicesScreen.svelte';

describe('DevicesScreen', () => {
  it('shows the last download and warns when the meter clock was off', async () => {
    vi.mocked(ipc.devices).mockResolvedValue({
      simulators: false,
      devices: [
        {
          address: 'AA:BB:CC:DD:EE:FF',
          id: 'i-sens:caresens-n:123',
          name: 'CareSens N',
          kind: 'meter',
          paired_at: '2026-11-01T10:00:00Z',
          last: {
            at: new Date(Date.now() - 3 * 60_000).toISOString(),
            records: 12,
            readings_stored: 12,
            entries_added: 14,
            conflicts: 0,
            rejected: 0,
            corrected: 12,
            clock_skew_min: 200,
            attempts: 1,
          },
        },
      ],
    });
    const { findByTestId } = render(DevicesScreen, { tz: 'Europe/Paris', ondownloaded: () => {} });
    expect((await findByTestId('device-last')).textContent).toContain('il y a 3 min : 12 nouvelles mesures');
    const warning = (await findByTestId('clock-warning')).textContent ?? '';
    expect(warning).toContain("L'horloge du lecteur avait 3 h 20 min d'avance.");
    expect(warning).toContain('12 heures de mesure ont été corrigées');
  });

  it('offers the simulated meter by its name', async () => {
    vi.mocked(ipc.devices).mockResolvedValue({
      simulators: true,
      devices: [{ address: 'sim:meter', id: null, name: null, kind: 'meter', paired_at: '2026-11-22T08:00:00Z', last: null }],
    });
    const { findByTestId } = render(DevicesScreen, { tz: 'Europe/Paris', ondownloaded: () => {} });
    const d = await findByTestId('device');
    expect(d.textContent).toContain('Lecteur simulé (démonstration)');
    expect(d.textContent).toContain('Jamais téléchargé');
  });
});
