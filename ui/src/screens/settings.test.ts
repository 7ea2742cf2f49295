// Settings' export: the patient picks the format (spreadsheet or FHIR for medical software) and
// the shell writes the file; the screen says where it went.
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';

vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return {
    ...real,
    ipc: {
      ...real.ipc,
      prescription: vi.fn().mockResolvedValue(null),
      rights: vi.fn().mockResolvedValue({ consent: null, history: [], notice_version: 2, access_log: [] }),
      exportCsv: vi.fn().mockResolvedValue('/home/p/Téléchargements/ilot-export-2026-11-22.csv'),
      exportFhir: vi.fn().mockResolvedValue('/home/p/Téléchargements/ilot-export-2026-11-22.fhir.json'),
      exportFhirFeed: vi.fn().mockResolvedValue('/home/p/Téléchargements/ilot-export-2026-11-22.fhir.ndjson'),
    },
  };
});

import { ipc } from '../lib/ipc';
import { appInfo } from '../test/fixtures';
import SettingsScreen from './SettingsScreen.svelte';

const info = appInfo();

function screen() {
  return render(SettingsScreen, { info, home: null, onchanged: () => {}, onreset: () => {}, onsync: async () => {} });
}

describe('SettingsScreen export', () => {
  it('exports a spreadsheet by default', async () => {
    const { getByTestId, findByText } = screen();
    await fireEvent.click(getByTestId('export-downloads'));
    expect(ipc.exportCsv).toHaveBeenCalledWith(null);
    expect(await findByText(/ilot-export-2026-11-22\.csv/)).toBeTruthy();
  });

  it('exports FHIR for medical software when chosen', async () => {
    const { getByTestId, getByLabelText, findByText } = screen();
    expect(getByLabelText('FHIR (JSON), pour un logiciel médical')).toBeTruthy();
    await fireEvent.click(getByTestId('export-fhir'));
    await fireEvent.click(getByTestId('export-downloads'));
    expect(ipc.exportFhir).toHaveBeenCalledWith(null);
    expect(await findByText(/\.fhir\.json/)).toBeTruthy();
  });

  it('exports the ANS feed when chosen', async () => {
    vi.mocked(ipc.exportFhir).mockClear();
    const { getByTestId, getByLabelText, findByText } = screen();
    expect(getByLabelText("FHIR, flux « Mesures de santé » de l'ANS (une transaction par mesure)")).toBeTruthy();
    await fireEvent.click(getByTestId('export-fhir-feed'));
    await fireEvent.click(getByTestId('export-downloads'));
    expect(ipc.exportFhirFeed).toHaveBeenCalledWith(null);
    expect(ipc.exportFhir).not.toHaveBeenCalled();
    expect(await findByText(/\.fhir\.ndjson/)).toBeTruthy();
  });
});
