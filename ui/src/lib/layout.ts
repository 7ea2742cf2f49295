// Phone or wide window: one breakpoint for the whole app (UX 10: under ~700 px a bottom tab bar
// of at most five destinations, a top bar on wide windows). Read in CSS pixels of the viewport,
// not in rem, so the text-size setting never switches the layout by itself.

import { readable, type Readable } from 'svelte/store';
import type { Screen } from './stores';

/** A store that follows a media query (false where there is no window). */
function matching(query: string): Readable<boolean> {
  return readable(false, (set) => {
    if (typeof window === 'undefined' || !window.matchMedia) return;
    const mq = window.matchMedia(query);
    set(mq.matches);
    const change = () => set(mq.matches);
    mq.addEventListener('change', change);
    return () => mq.removeEventListener('change', change);
  });
}

export const COMPACT_QUERY = '(max-width: 699px)';

/** True while the window is phone-sized. */
export const compact = matching(COMPACT_QUERY);

/**
 * A short phone (360×640 and the like): under the number, the curve is drawn lower (and the alert
 * card set tighter, AlertCard.svelte) so that the whole card — title, facts, advice, "done" —
 * still fits in the first screen.
 */
export const SHORT_QUERY = '(max-width: 699px) and (max-height: 700px)';

/** True while the window is phone-sized and short. */
export const short = matching(SHORT_QUERY);

/** The bottom bar's own destinations; "Plus" (more) holds the rest. */
export const TAB_ITEMS = ['home', 'logbook', 'charts', 'observance'] as const satisfies readonly Screen['name'][];
export const MORE_ITEMS = ['education', 'devices', 'messages', 'appointments', 'access', 'settings'] as const satisfies readonly Screen['name'][];

/** Which navigation item a screen belongs to (an entry form to home, the nurse session to education). */
export function navItem(name: Screen['name']): Screen['name'] {
  if (name === 'add') return 'home';
  if (name === 'nurse') return 'education';
  return name;
}

/** The last hours the home curve shows; the patient's choice is remembered on the device. */
export const RECENT_HOURS = [3, 6, 12, 24] as const;
export type RecentHours = (typeof RECENT_HOURS)[number];
const RECENT_KEY = 'ilot.recent-hours';

export function savedRecentHours(): RecentHours {
  try {
    const v = Number(localStorage.getItem(RECENT_KEY));
    return (RECENT_HOURS as readonly number[]).includes(v) ? (v as RecentHours) : 6;
  } catch {
    return 6;
  }
}

export function saveRecentHours(h: RecentHours): void {
  try {
    localStorage.setItem(RECENT_KEY, String(h));
  } catch {
    // Storage refused (private mode): the choice lasts until the app closes.
  }
}
