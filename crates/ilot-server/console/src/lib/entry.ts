// How the logbook says an entry: the value and unit as the patient entered them (never
// converted), with the words of the catalogue. Numbers keep every digit that was entered; only
// the decimal separator follows the language.

import type { DomainEntry, GivenGlucose } from './api';

type T = (key: string, options?: { values?: Record<string, string | number> }) => string;

/** A number as entered, with the language's decimal separator (no rounding). */
export function asEntered(v: number, lang: string): string {
  const s = String(v);
  return lang.startsWith('fr') ? s.replace('.', ',') : s;
}

export function givenGlucose(g: GivenGlucose, lang: string): string {
  return `${asEntered(g.value, lang)} ${g.unit}`;
}

interface Level {
  level: 'value' | 'lo' | 'hi';
  glucose?: GivenGlucose;
}

/** The value column of the logbook. */
export function value(e: DomainEntry, t: T, lang: string): string {
  const k = e.kind as Record<string, unknown>;
  switch (k.type) {
    case 'glucose': {
      const l = k.level as Level;
      if (l.level === 'lo') return 'LO';
      if (l.level === 'hi') return 'HI';
      return l.glucose ? givenGlucose(l.glucose, lang) : '—';
    }
    case 'insulin':
      return `${asEntered(k.units as number, lang)} U`;
    case 'carbs':
      return `${asEntered(k.grams as number, lang)} g`;
    case 'ketones':
      return k.source === 'urine'
        ? t('patient.logbook.crosses', { values: { n: asEntered(k.value as number, lang) } })
        : `${asEntered(k.value as number, lang)} mmol/L`;
    case 'hypo': {
      const g = k.glucose as GivenGlucose | null;
      return g ? givenGlucose(g, lang) : '—';
    }
    case 'weight':
      return `${asEntered(k.kg as number, lang)} kg`;
    case 'hba1c':
      return `${asEntered(k.percent as number, lang)} %`;
    case 'activity':
      return t('patient.logbook.minutes', { values: { n: k.minutes as number } });
    default:
      return '';
  }
}

/** The detail column: meal context, insulin kind, what the patient wrote. */
export function detail(e: DomainEntry, t: T): string {
  const k = e.kind as Record<string, unknown>;
  const parts: string[] = [];
  switch (k.type) {
    case 'glucose':
      parts.push(t(`patient.reading.${k.reading_type as string}`), t(`context.${k.context as string}`));
      break;
    case 'insulin':
      parts.push(t(`insulin.kind.${k.kind as string}`));
      if (k.insulin_name) parts.push(String(k.insulin_name));
      break;
    case 'carbs':
      if (k.label) parts.push(String(k.label));
      break;
    case 'hypo':
      if (k.needed_help) parts.push(t('patient.logbook.needed-help'));
      if (k.treatment) parts.push(String(k.treatment));
      if (Array.isArray(k.symptoms) && k.symptoms.length) parts.push((k.symptoms as string[]).join(', '));
      break;
    case 'ketones':
      parts.push(t(`ketones.${k.source as string}`));
      break;
    case 'note':
      parts.push(String(k.text ?? ''));
      break;
    case 'education':
      if (Array.isArray(k.topics)) parts.push((k.topics as string[]).join(', '));
      if (k.notes) parts.push(String(k.notes));
      break;
  }
  return parts.filter(Boolean).join(' · ');
}
