// The patient's rights in words: the server's action codes of the access log, and the consent
// decisions, as catalogue keys (ui/src/i18n, French first).

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
