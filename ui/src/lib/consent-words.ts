// The device's consent decision in words, for Settings: given or withdrawn, by the patient in
// the app or recorded by the care team in consultation (and by whom), and what happens to the
// readings while it is withdrawn (docs/privacy.md §6: they stay here, never sent).

import type { Consent } from './ipc';
import { formatDateTime, type Translate } from './time';

/** The sentences saying where consent stands (the first one always; a second while withdrawn). */
export function consentWords(c: Consent | null, tz: string, lang: string, t: Translate): string[] {
  if (!c) return [t('settings.consent-none')];
  const when = formatDateTime(c.at, tz, lang);
  const who = c.collected_by;
  const values = { when, who: who?.name ?? '', role: who ? t(`role.${who.role}`) : '' };
  if (c.granted) {
    if (c.channel === 'app') return [t('settings.consent-given', { values: { when } })];
    return [t(who ? 'settings.consent-given-team' : 'settings.consent-given-consultation', { values })];
  }
  const first =
    c.channel === 'app'
      ? t('settings.consent-withdrawn')
      : t(who ? 'settings.consent-withdrawn-team' : 'settings.consent-withdrawn-consultation', { values });
  return [first, t('settings.withdrawn-kept')];
}
