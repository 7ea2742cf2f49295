// Enrolment text as the patient types or pastes it: the QR code's ilot://enrol link carries the
// server and the key fingerprint, a typed code needs the server address beside it.

export const INVITE_PREFIX = 'ilot://enrol?';

export function isInvite(text: string): boolean {
  return text.trim().startsWith(INVITE_PREFIX);
}
