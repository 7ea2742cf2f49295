import { describe as group, expect, it } from 'vitest';
import { describe } from './describe';
import type { EntryDetail } from './ipc';
import { translate } from './i18n';

const t = (key: string, opts?: { values?: Record<string, string | number> }) => translate(key, opts?.values);

group('entry in words', () => {
  it('shows a glucose given in g/L in the patient unit', () => {
    const d = { type: 'glucose', level: { level: 'value', glucose: { value: 1.26, unit: 'g/L' } }, reading_type: 'capillary', context: 'fasting' } as const;
    expect(describe(d, 'g/L', 'fr', t)).toBe('1,26 g/L · à jeun');
    expect(describe(d, 'mg/dL', 'fr', t)).toBe('126 mg/dL · à jeun');
    expect(describe(d, 'mmol/L', 'fr', t)).toBe('7,0 mmol/L · à jeun');
  });

  it('says a reading was a scan of the sensor', () => {
    const d = { type: 'glucose', level: { level: 'value', glucose: { value: 96, unit: 'mg/dL' } }, reading_type: 'scan', context: 'other' } as const;
    expect(describe(d, 'mg/dL', 'fr', t)).toBe('96 mg/dL · autre moment · scan du capteur');
  });

  it('keeps LO as a word', () => {
    const d = { type: 'glucose', level: { level: 'lo' }, reading_type: 'capillary', context: 'night' } as const;
    expect(describe(d, 'g/L', 'fr', t)).toBe('LO · la nuit');
  });

  it('shows insulin as stored, with a French comma', () => {
    const d = { type: 'insulin', units: 6.5, kind: 'bolus', delivery: 'pen', insulin_name: null } as const;
    expect(describe(d, 'g/L', 'fr', t)).toBe('6,5 U · rapide (repas) · stylo');
  });

  it('names the symptoms and the help of a hypo', () => {
    const d: EntryDetail = { type: 'hypo', symptoms: ['sweating'], treatment: '3 sucres', needed_help: true, glucose: null };
    expect(describe(d, 'g/L', 'fr', t)).toBe('sueurs · 3 sucres · aide nécessaire');
  });

  it('lists education topics by name', () => {
    const d: EntryDetail = { type: 'education', topics: ['hypo', 'meter'], understanding: 'good', notes: null, next_goals: null, educator: null, remote: false };
    expect(describe(d, 'g/L', 'fr', t)).toBe('Hypoglycémie, Utiliser le lecteur · bonne');
  });
});
