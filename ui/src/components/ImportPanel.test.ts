import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, waitFor } from '@testing-library/svelte';

vi.mock('@tauri-apps/plugin-dialog', () => ({ open: vi.fn(async () => null) }));
vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return {
    ...real,
    ipc: {
      ...real.ipc,
      importPreview: vi.fn(async (path: string) => ({
        path,
        format: 'libreview',
        device: 'FreeStyle LibreLink',
        serial: 'b59d',
        from: '2019-12-05T16:25:00+01:00',
        to: '2019-12-08T13:36:00+01:00',
        counts: { glucose: 260, scans: 60, insulin: 0, carbs: 0, notes: 7, other: 0 },
        new: 266,
        already_present: 1,
        rejected_total: 4,
        rejected: [
          { line: 5, reason: 'glucose must be a number, got "abc"', code: 'not-a-number', params: { what: 'glucose', got: 'abc' } },
          { line: 8, reason: "the insulin calculator's suggestion was changed…", code: 'calculator-changed', params: { units: '2' } },
          { line: 12, reason: '2026-03-29 02:30 does not exist in Europe/Paris', code: 'time-gap', params: { time: '2026-03-29 02:30' } },
          { line: 20, reason: 'a reason of a newer version', code: 'not-yet-known', params: null },
        ],
        skipped: {},
        items: false,
      })),
      importCommit: vi.fn(async () => ({ added: 266, already_present: 1, conflicts: 0, rejected: 1 })),
    },
  };
});

import { ipc } from '../lib/ipc';
import ImportPanel from './ImportPanel.svelte';

describe('importing a file', () => {
  it('shows what the file holds before writing, then imports on confirmation', async () => {
    const onsaved = vi.fn();
    const { getByTestId } = render(ImportPanel, { tz: 'Europe/Paris', onsaved, oncancel: () => {} });
    await fireEvent.input(getByTestId('import-path'), { target: { value: '/tmp/export.csv' } });
    await fireEvent.click(getByTestId('import-show'));
    await waitFor(() => getByTestId('import-preview'));
    expect(ipc.importPreview).toHaveBeenCalledWith('/tmp/export.csv');
    expect(ipc.importCommit).not.toHaveBeenCalled();
    expect(getByTestId('import-format').textContent).toContain('LibreView (FreeStyle Libre)');
    expect(getByTestId('import-counts').textContent).toBe('260 glycémies (dont 60 scans), 0 doses d\'insuline, 0 repas, 7 notes');
    expect(getByTestId('import-period').textContent).toBe('Du 5 décembre 2019 à 16:25 au 8 décembre 2019 à 13:36');
    expect(getByTestId('import-new').textContent).toBe('266 nouvelles entrées, 1 déjà présente');
    // In the patient's language, from the reasons' codes; English only for a code unknown here.
    const refused = [...getByTestId('import-rejected').querySelectorAll('li')].map((li) => li.textContent);
    expect(refused).toEqual([
      'ligne 5 : Glycémie : « abc » n\'est pas un nombre.',
      'ligne 8 : dose proposée par le calculateur modifiée (2 U) sans la dose injectée : rien n\'est enregistré, notez la dose à la main',
      'ligne 12 : 2026-03-29 02:30 n\'existe pas ce jour-là (passage à l\'heure d\'été)',
      'ligne 20 : a reason of a newer version',
    ]);
    expect(getByTestId('import-commit').textContent?.trim()).toBe('Importer 266 entrées');
    await fireEvent.click(getByTestId('import-commit'));
    await waitFor(() => expect(onsaved).toHaveBeenCalledWith('266 entrées importées'));
    expect(ipc.importCommit).toHaveBeenCalledWith('/tmp/export.csv');
  });
});
