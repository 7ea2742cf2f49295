import { beforeEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';

vi.mock('./ipc', async (orig) => {
  const real = await orig<typeof import('./ipc')>();
  return { ...real, ipc: { ...real.ipc, home: vi.fn(), appInfo: vi.fn() } };
});

import { ipc, IpcError } from './ipc';
import type { AppInfo, Home } from './ipc';
import { appInfo as fixture } from '../test/fixtures';
import { home, info, notice, refreshHome, refreshInfo, say, unit, go, screen, applyTextScale } from './stores';

const appInfo: AppInfo = fixture({ text_scale: 150, unit: 'mmol/L' });

describe('stores', () => {
  beforeEach(() => {
    home.set(null);
    info.set(null);
  });

  it('applies the text size from the app info', async () => {
    vi.mocked(ipc.appInfo).mockResolvedValueOnce(appInfo);
    await refreshInfo();
    expect(get(info)?.text_scale).toBe(150);
    expect(document.documentElement.style.fontSize).toBe('150%');
    applyTextScale(100);
  });

  it('takes the unit from home first, then the app info, then g/L', () => {
    expect(get(unit)).toBe('g/L');
    info.set(appInfo);
    expect(get(unit)).toBe('mmol/L');
    home.set({ unit: 'mg/dL' } as Home);
    expect(get(unit)).toBe('mg/dL');
  });

  it('goes back to the lock when the shell says it is locked', async () => {
    vi.mocked(ipc.home).mockRejectedValueOnce(
      new IpcError({ kind: 'locked', code: 'locked', message: 'locked', params: null }),
    );
    vi.mocked(ipc.appInfo).mockResolvedValueOnce({ ...appInfo, locked: true });
    expect(await refreshHome()).toBeNull();
    expect(get(info)?.locked).toBe(true);
  });

  it('passes other failures on', async () => {
    vi.mocked(ipc.home).mockRejectedValueOnce(new IpcError({ kind: 'store', code: 'store', message: 'x', params: null }));
    await expect(refreshHome()).rejects.toBeInstanceOf(IpcError);
  });

  it('shows a notice, then clears it', () => {
    vi.useFakeTimers();
    say('Enregistré.');
    expect(get(notice)).toBe('Enregistré.');
    vi.advanceTimersByTime(6001);
    expect(get(notice)).toBeNull();
    vi.useRealTimers();
  });

  it('switches screens', () => {
    go({ name: 'charts' });
    expect(get(screen)).toEqual({ name: 'charts' });
  });
});
