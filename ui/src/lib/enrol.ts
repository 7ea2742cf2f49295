// Enrolment text as the patient types or pastes it: the QR code's ilot://enrol link carries the
// server and the key fingerprint, a typed code needs the server address beside it.

export const INVITE_PREFIX = 'ilot://enrol?';

export function isInvite(text: string): boolean {
  return text.trim().startsWith(INVITE_PREFIX);
}

import { writable } from 'svelte/store';
import { getCurrent, onOpenUrl } from '@tauri-apps/plugin-deep-link';

/** The last ilot://enrol link the system opened the app with (a QR code scanned by the phone's
 *  camera, a link clicked on the desktop); the enrolment form starts from it. */
export const receivedInvite = writable<string | null>(null);

function take(urls: string[] | null | undefined): void {
  const invite = urls?.find((u) => isInvite(u));
  if (invite) receivedInvite.set(invite);
}

/** Listens for invites: the one the app was started with, then any while it runs. */
export async function watchInvites(): Promise<void> {
  try {
    take(await getCurrent());
    await onOpenUrl(take);
  } catch {
    // No deep-link support here (a unit test, a platform without it): typing still works.
  }
}
