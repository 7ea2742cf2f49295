// "Qui a consulté mes données" and Settings' consent details: the access log and the consent
// history the sync brought, in plain French.
import { describe, expect, it, vi } from 'vitest';
import { render } from '@testing-library/svelte';
import type { RightsView } from '../lib/ipc';

const rights: RightsView = {
  // The device followed the withdrawal the team recorded (ilot-sync `follow_team`).
  consent: {
    granted: false,
    at: '2026-11-10T10:30:00Z',
    notice_version: 2,
    told_server: true,
    channel: 'consultation',
    collected_by: { name: 'Inès Petit', role: 'nurse' },
  },
  notice_version: 2,
  history: [
    { id: 1, decision: 'given', at: '2026-11-01T09:00:00Z', notice_version: 2, channel: 'app', collected_by: null },
    {
      id: 2,
      decision: 'withdrawn',
      at: '2026-11-10T10:30:00Z',
      notice_version: 2,
      channel: 'consultation',
      collected_by: { name: 'Inès Petit', role: 'nurse' },
    },
  ],
  access_log: [
    { id: 11, at: '2026-11-03T16:00:00Z', by: { name: 'Inès Petit', role: 'nurse' }, action: 'triage' },
    { id: 10, at: '2026-11-03T09:00:00Z', by: { name: 'Inès Petit', role: 'nurse' }, action: 'triage' },
    { id: 9, at: '2026-11-03T13:05:00Z', by: { name: 'Dr Martin', role: 'physician' }, action: 'read-entries' },
    { id: 8, at: '2026-11-02T08:00:00Z', by: { name: 'Dr Martin', role: 'physician' }, action: 'a-new-server-action' },
  ],
};

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return { ...real, ipc: { ...real.ipc, rights: vi.fn(async () => rights) } };
});

import AccessScreen from './AccessScreen.svelte';
import ConsentDetails from '../components/ConsentDetails.svelte';

describe('AccessScreen', () => {
  it('lists who read what and when, in plain French, an unknown action as opening the record', async () => {
    const { findAllByTestId } = render(AccessScreen, { tz: 'Europe/Paris', enrolled: true });
    const items = (await findAllByTestId('access-entry')).map((e) => e.textContent?.trim());
    expect(items).toHaveLength(3);
    // The same list read twice that day: one line, its latest time and the count.
    expect(items[0]).toMatch(
      /^Inès Petit \(infirmier·e\) a vu votre nom et vos indicateurs glycémiques dans la liste de suivi — mardi 3 novembre 2026 à 17:00 \(2 fois ce jour-là\)$/,
    );
    expect(items[1]).toMatch(/^Dr Martin \(médecin\) a consulté vos mesures — mardi 3 novembre 2026 à 14:05$/);
    expect(items[2]).toMatch(/^Dr Martin \(médecin\) a consulté votre dossier — lundi 2 novembre 2026 à 09:00$/);
  });
});

describe('ConsentDetails', () => {
  it('shows the history with how each decision was collected, and the team-recorded stop', async () => {
    const { findAllByTestId, getByTestId } = render(ConsentDetails, { tz: 'Europe/Paris' });
    const records = (await findAllByTestId('consent-record')).map((e) => e.textContent?.replace(/\s+/g, ' ').trim());
    expect(records[0]).toMatch(/^Accord donné — 1 novembre 2026 à 10:00 · dans l'application · information version 2$/);
    expect(records[1]).toMatch(/^Accord retiré — 10 novembre 2026 à 11:30 · recueilli par Inès Petit \(infirmier·e\) · information version 2$/);
    expect(getByTestId('consent-held-stop').textContent).toContain('ne reçoit plus vos données');
    expect(getByTestId('consent-notice').textContent).toContain('version 2');
    expect(getByTestId('consent-notice').textContent).toContain('traitement de vos données de santé');
  });
});
