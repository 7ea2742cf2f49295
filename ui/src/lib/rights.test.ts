import { describe, expect, it } from 'vitest';
import { accessWhat } from './rights';
import { locale, translate } from './i18n';

// A line of the access log as the Access screen writes it (`access.line`).
const line = (action: string) =>
  translate('access.line', { who: 'Inf. Durand', role: translate('role.nurse'), what: translate(accessWhat(action)), when: 'le 2 mars' });

describe('access log wording (Qui a consulté mes données)', () => {
  it('says in which list the care team saw the patient, in French then English', () => {
    locale.set('fr');
    expect(line('triage')).toBe(
      'Inf. Durand (infirmier·e) a vu votre nom et vos indicateurs glycémiques dans la liste de suivi — le 2 mars',
    );
    expect(translate(accessWhat('list-patients'))).toBe('a vu votre nom et vos alertes dans la liste des patients');
    expect(translate(accessWhat('read-open-alerts'))).toContain("liste des alertes de l'équipe");
    expect(translate(accessWhat('read-billing'))).toContain('tableau de facturation');
    expect(translate(accessWhat('export-billing'))).toContain('fichier CSV');
    locale.set('en');
    expect(translate(accessWhat('triage'))).toBe('saw your name and glucose indicators in the follow-up list');
    expect(translate(accessWhat('list-patients'))).toBe('saw your name and alerts in the patient list');
    locale.set('fr');
  });

  it('keeps a direct read worded as before, and an unknown action as opening the record', () => {
    expect(accessWhat('read-summary')).toBe('access.action.read-summary');
    expect(accessWhat('list-something-new')).toBe('access.action.other');
  });
});
