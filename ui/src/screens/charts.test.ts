// Courbes → Rapport PDF: the save dialog first (where the patient wants the file), then the shell
// writes the page for the period shown, in the app's language; the screen says where it went.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';

// uPlot (the charts) asks the window for its pixel ratio when loaded; jsdom has no matchMedia.
vi.hoisted(() => {
  window.matchMedia ??= ((query: string) => ({
    matches: false, media: query, onchange: null,
    addListener: () => {}, removeListener: () => {},
    addEventListener: () => {}, removeEventListener: () => {}, dispatchEvent: () => false,
  })) as typeof window.matchMedia;
});
vi.mock('@tauri-apps/plugin-dialog', () => ({ save: vi.fn() }));
vi.mock('../lib/ipc', async (orig) => {
  const real = await orig<typeof import('../lib/ipc')>();
  return {
    ...real,
    ipc: {
      ...real.ipc,
      // The charts themselves are not what is tested here: their data never arrives.
      report: vi.fn(() => new Promise(() => {})),
      reportPdf: vi.fn().mockResolvedValue('/home/p/Documents/rapport.pdf'),
    },
  };
});

import { save } from '@tauri-apps/plugin-dialog';
import { ipc } from '../lib/ipc';
import ChartsScreen from './ChartsScreen.svelte';

const screen = () => render(ChartsScreen, { unit: 'g/L', tz: 'Europe/Paris' });

describe('ChartsScreen PDF report', () => {
  beforeEach(() => vi.clearAllMocks());

  it('saves the report of the period shown where the patient chose', async () => {
    vi.mocked(save).mockResolvedValue('/home/p/Documents/rapport.pdf');
    const { getByTestId, findByTestId } = screen();
    await fireEvent.click(getByTestId('days-30'));
    await fireEvent.click(getByTestId('report-pdf'));
    const saved = await findByTestId('report-saved');
    expect(saved.textContent).toBe('Rapport enregistré : /home/p/Documents/rapport.pdf');
    expect(save).toHaveBeenCalledWith({
      defaultPath: 'ilot-rapport-agp.pdf',
      filters: [{ name: 'Document PDF', extensions: ['pdf'] }],
    });
    expect(ipc.reportPdf).toHaveBeenCalledWith(30, 'fr', '/home/p/Documents/rapport.pdf');
  });

  it('writes nothing when the dialog is cancelled', async () => {
    vi.mocked(save).mockResolvedValue(null);
    const { getByTestId, queryByTestId } = screen();
    await fireEvent.click(getByTestId('report-pdf'));
    await new Promise((r) => setTimeout(r, 0));
    expect(ipc.reportPdf).not.toHaveBeenCalled();
    expect(queryByTestId('report-saved')).toBeNull();
  });
});
