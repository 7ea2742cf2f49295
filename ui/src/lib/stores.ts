// App-wide state: which screen is shown, what the shell said about the app and the home screen,
// and a short polite message after an action ("Enregistré").

import { writable, derived, get } from 'svelte/store';
import { ipc, IpcError } from './ipc';
import type { AppInfo, EntryKindName, Home } from './ipc';
import type { Unit } from './units';

export type Screen =
  | { name: 'home' }
  | { name: 'add'; kind: EntryKindName; editId?: number; suggestion?: { units: number } }
  | { name: 'logbook' }
  | { name: 'charts' }
  | { name: 'observance' }
  | { name: 'education' }
  | { name: 'nurse' }
  | { name: 'devices' }
  | { name: 'messages' }
  | { name: 'appointments' }
  | { name: 'access' }
  | { name: 'settings' };

export const screen = writable<Screen>({ name: 'home' });
export const info = writable<AppInfo | null>(null);
export const home = writable<Home | null>(null);
/** A short status message shown in a polite live region. */
export const notice = writable<string | null>(null);
/** When the shell said the app is locked (e.g. after "lock now"). */
export const locked = derived(info, (i) => i?.locked ?? false);

export const unit = derived([info, home], ([i, h]): Unit => h?.unit ?? i?.unit ?? 'g/L');
export const tz = derived([info, home], ([i, h]) => h?.tz ?? i?.tz ?? 'Europe/Paris');

export function go(s: Screen): void {
  screen.set(s);
}

export async function refreshInfo(): Promise<AppInfo> {
  const i = await ipc.appInfo();
  info.set(i);
  applyTextScale(i.text_scale);
  return i;
}

export async function refreshHome(): Promise<Home | null> {
  try {
    const h = await ipc.home();
    home.set(h);
    return h;
  } catch (e) {
    if (e instanceof IpcError && e.shell.kind === 'locked') {
      await refreshInfo();
      return null;
    }
    throw e;
  }
}

export function say(message: string): void {
  notice.set(message);
  setTimeout(() => {
    if (get(notice) === message) notice.set(null);
  }, 6000);
}

/** Text size as a percentage of the browser default; layouts use rem so everything scales. */
export function applyTextScale(percent: number): void {
  if (typeof document !== 'undefined') document.documentElement.style.fontSize = `${percent}%`;
}
