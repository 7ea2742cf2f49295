// The logbook shows values as the patient entered them: unit kept, every digit kept, only the
// decimal separator follows the language.
import { describe, expect, it } from 'vitest';
import { asEntered, detail, value } from './entry';
import type { DomainEntry } from './api';

const t = (k: string, o?: { values?: Record<string, string | number> }) => (o?.values ? `${k}:${JSON.stringify(o.values)}` : k);

function entry(kind: DomainEntry['kind']): DomainEntry {
  return { at: '2026-03-01T07:30:00+01:00', source: { kind: 'manual', device: null, record_number: null }, kind };
}

describe('logbook values', () => {
  it('keep the unit and the digits entered', () => {
    const g = entry({ type: 'glucose', level: { level: 'value', glucose: { value: 1.26, unit: 'g/L' } }, reading_type: 'capillary', context: 'fasting' });
    expect(value(g, t, 'fr')).toBe('1,26 g/L');
    expect(value(g, t, 'en')).toBe('1.26 g/L');
    const m = entry({ type: 'glucose', level: { level: 'value', glucose: { value: 5.15, unit: 'mmol/L' } }, reading_type: 'capillary', context: 'before-meal' });
    expect(value(m, t, 'fr')).toBe('5,15 mmol/L');
    expect(detail(m, t)).toBe('patient.reading.capillary · context.before-meal');
    expect(value(entry({ type: 'glucose', level: { level: 'lo' }, reading_type: 'capillary', context: 'other' }), t, 'fr')).toBe('LO');
  });

  it('say insulin, carbohydrates and ketones as entered', () => {
    expect(value(entry({ type: 'insulin', units: 6.5, kind: 'bolus', delivery: 'pen', insulin_name: null }), t, 'fr')).toBe('6,5 U');
    expect(value(entry({ type: 'carbs', grams: 45, label: null }), t, 'fr')).toBe('45 g');
    expect(value(entry({ type: 'ketones', value: 0.6, source: 'blood' }), t, 'fr')).toBe('0,6 mmol/L');
    expect(value(entry({ type: 'ketones', value: 2, source: 'urine' }), t, 'fr')).toBe('patient.logbook.crosses:{"n":"2"}');
    expect(asEntered(0.05, 'fr')).toBe('0,05');
  });
});
