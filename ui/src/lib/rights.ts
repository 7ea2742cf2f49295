// The patient's rights in words: the server's action codes of the access log, and the consent
// decisions, as catalogue keys (ui/src/i18n, French first).

import type { AccessEntry } from './care-types';

/** Server action codes the catalogue words (`access.action.<code>`). */
export const KNOWN_ACTIONS = [
  'read-entries',
  'read-days',
  'read-summary',
  'read-metrics',
  'read-logbook',
  'read-report',
  'read-alerts',
  'read-patient',
  'read-observance',
  'read-periods',
  'read-feed',
  'read-patient-audit',
  'read-consent',
  'record-consent',
  'set-prescription',
  'send-message',
  'set-appointment',
  'acknowledge-alert',
  'review-patient',
  'undo-review',
  'create-patient',
  'new-enrolment-code',
  'list-devices',
  'revoke-device',
  'read-identity',
  'read-identity-history',
  'change-identity',
  'insi-lookup',
  'read-fhir',
  'exceptional-read',
  'close-monitoring',
  'reopen-monitoring',
  'restrict-record',
  'lift-restriction',
  // List reads: the patient was one of those a list of the console showed.
  'triage',
  'list-patients',
  'read-open-alerts',
  'read-billing',
  'export-billing',
] as const;

/** The catalogue key of what the care team did; an unknown code reads as opening the record. */
export function accessWhat(action: string): string {
  return (KNOWN_ACTIONS as readonly string[]).includes(action) ? `access.action.${action}` : 'access.action.other';
}

/** One line of "Qui a consulté mes données": the newest of `count` identical acts that day. */
export interface AccessGroup {
  /** The newest act of the group (its time is the one shown). */
  latest: AccessEntry;
  /** How many times that person did that on that local day (1 for a single act). */
  count: number;
}

/** The local calendar day of an instant in the patient's zone (`YYYY-MM-DD`). */
function localDay(at: string, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(at),
  );
}

/**
 * The access log as the patient reads it: the same act by the same person on the same local day
 * is one line with its count (a nurse opening the triage list twenty times a day is one line,
 * not twenty), placed where its newest act is; different acts, people or days stay apart. The
 * log comes newest first and stays so. Nothing is dropped: the counts add up to the log.
 */
export function groupAccess(log: readonly AccessEntry[], tz: string): AccessGroup[] {
  const groups: AccessGroup[] = [];
  const index = new Map<string, AccessGroup>();
  for (const a of log) {
    const key = JSON.stringify([localDay(a.at, tz), a.by.name, a.by.role, a.action]);
    const g = index.get(key);
    if (g) {
      g.count += 1;
      if (Date.parse(a.at) > Date.parse(g.latest.at)) g.latest = a;
    } else {
      const fresh = { latest: a, count: 1 };
      index.set(key, fresh);
      groups.push(fresh);
    }
  }
  return groups;
}
