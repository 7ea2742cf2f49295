// The sync line in a few words, for the phone's header (a dot and a short phrase; the whole
// sentence opens on tap). Never "error": offline is normal.

import type { SyncView } from './ipc';
import { ago, type Translate } from './time';

export function syncShort(sync: SyncView, now: Date, t: Translate): string {
  const waiting = t('sync.short.pending', { values: { n: sync.pending } });
  switch (sync.state) {
    case 'syncing':
      return t('sync.short.syncing');
    case 'offline':
      return t('sync.short.offline');
    case 'refused':
      return t('sync.short.paused');
    case 'no-consent':
    case 'consent-withdrawn':
    case 'team-withdrawn':
    case 'not-enrolled':
      return sync.pending > 0 ? waiting : t('sync.short.kept');
    default:
      if (sync.pending === 0 && sync.last_sent_at) return t('sync.short.sent', { values: { ago: ago(sync.last_sent_at, now, t) } });
      return sync.pending > 0 ? waiting : t('sync.short.kept');
  }
}

/**
 * The catalogue key of the sentence for a refusal the patient can act on or must understand,
 * from the server's error code: a device the team no longer knows, a withdrawal the care team
 * recorded, a telesurveillance the team ended; anything else is a pause (kept, retried).
 */
export function refusedKey(code: string | null): string {
  switch (code) {
    case 'unknown_device':
      return 'sync.enrol-again';
    case 'consent_withdrawn':
      return 'sync.team-withdrawn';
    case 'monitoring_ended':
      return 'sync.monitoring-ended';
    default:
      return 'sync.refused';
  }
}
