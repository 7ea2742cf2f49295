import { describe, expect, it } from 'vitest';
import { consentWords } from './consent-words';
import { syncShort } from './sync-short';
import { locale, translate } from './i18n';
import type { Consent, SyncView } from './ipc';

const t = (key: string, opts?: { values?: Record<string, string | number> }) => translate(key, opts?.values);

const consent = (over: Partial<Consent>): Consent => ({
  granted: true,
  at: '2026-11-20T14:30:00Z',
  notice_version: 2,
  told_server: true,
  channel: 'app',
  collected_by: null,
  ...over,
});

describe('consent in words (Settings)', () => {
  it('says who recorded a withdrawal in consultation, and that the readings stay here, never sent', () => {
    const words = consentWords(
      consent({ granted: false, channel: 'consultation', collected_by: { name: 'Dr Martin', role: 'physician' } }),
      'Europe/Paris', 'fr', t,
    );
    expect(words[0]).toContain('Votre équipe a enregistré le retrait de votre accord le 20 nov');
    expect(words[0]).toContain('15:30');
    expect(words[0]).toContain('Dr Martin, médecin');
    expect(words[0]).toContain("rien n'est envoyé");
    expect(words[1]).toContain('ne seront jamais envoyées');
  });

  it('words a withdrawal in the app as the patient\'s own, and a consent given again in consultation', () => {
    expect(consentWords(consent({ granted: false }), 'Europe/Paris', 'fr', t)[0]).toBe("Vous avez retiré votre accord : rien n'est envoyé.");
    const again = consentWords(
      consent({ channel: 'consultation', collected_by: { name: 'Inf. Durand', role: 'nurse' } }),
      'Europe/Paris', 'fr', t,
    );
    expect(again).toEqual([expect.stringContaining('Accord donné en consultation le 20 nov')]);
    expect(again[0]).toContain('recueilli par Inf. Durand (infirmier·e)');
    expect(consentWords(consent({}), 'Europe/Paris', 'fr', t)[0]).toContain('Accord donné le');
    expect(consentWords(null, 'Europe/Paris', 'fr', t)).toEqual(["Vous n'avez pas encore donné votre accord : rien n'est envoyé."]);
  });

  it('in English too', () => {
    locale.set('en');
    try {
      const words = consentWords(consent({ granted: false, channel: 'consultation', collected_by: null }), 'Europe/Paris', 'en', t);
      expect(words[0]).toContain('Your care team recorded on');
      expect(words[1]).toContain('will never be sent');
    } finally {
      locale.set('fr');
    }
  });
});

describe('the sync line after a withdrawal the team recorded', () => {
  it('keeps what waits on the device, in short', () => {
    const sync: SyncView = { state: 'team-withdrawn', pending: 3, last_sent_at: null, next_try_at: null, refused: null, received: 0 };
    expect(syncShort(sync, new Date('2026-11-22T10:00:00Z'), t)).toContain('3');
  });
});
