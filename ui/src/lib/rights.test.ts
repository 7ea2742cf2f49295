import { describe, expect, it } from 'vitest';
import { accessWhat, groupAccess } from './rights';
import type { AccessEntry } from './care-types';
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

describe('groupAccess (one line per act, person and day)', () => {
  const e = (id: number, at: string, name: string, action: string): AccessEntry => ({
    id,
    at,
    by: { name, role: 'nurse' },
    action,
  });
  const log = [
    e(6, '2026-11-03T22:30:00Z', 'Inf. Durand', 'triage'), // 23:30 in Paris, 3 November
    e(5, '2026-11-03T16:00:00Z', 'Dr Martin', 'read-entries'),
    e(4, '2026-11-03T15:00:00Z', 'Inf. Durand', 'triage'),
    e(3, '2026-11-03T08:00:00Z', 'Inf. Durand', 'triage'),
    e(2, '2026-11-03T07:00:00Z', 'Inf. Durand', 'list-patients'),
    e(1, '2026-11-02T23:30:00Z', 'Inf. Durand', 'triage'), // 00:30 in Paris, 3 November
    e(0, '2026-11-02T22:30:00Z', 'Inf. Durand', 'triage'), // 23:30 in Paris, 2 November
  ];

  it("counts the same act of one person on one day of the patient's zone, where its newest act is", () => {
    const g = groupAccess(log, 'Europe/Paris');
    expect(g.map((x) => [x.latest.id, x.count])).toEqual([
      [6, 4],
      [5, 1],
      [2, 1],
      [0, 1],
    ]);
    expect(g.reduce((n, x) => n + x.count, 0)).toBe(log.length);
  });

  it('cuts days at midnight of the zone it is given', () => {
    expect(groupAccess(log, 'UTC').map((x) => [x.latest.id, x.count])).toEqual([
      [6, 3],
      [5, 1],
      [2, 1],
      [1, 2],
    ]);
  });
});
