// One line of words for an entry, in the patient's unit and language (logbook, history).

import type { EntryDetail } from './ipc';
import type { Translate } from './time';
import { formatGlucose, formatNumber, toMgDl, type Unit } from './units';

function num(v: number, lang: string): string {
  // Shows the value as stored, with the French comma, without adding or dropping decimals.
  const s = String(v);
  return lang.startsWith('fr') ? s.replace('.', ',') : s;
}

export function describe(d: EntryDetail, unit: Unit, lang: string, t: Translate): string {
  switch (d.type) {
    case 'glucose': {
      const l = d.level;
      const value =
        l.level === 'value'
          ? `${formatGlucose(toMgDl(l.glucose.value, l.glucose.unit), unit, lang)} ${unit}`
          : l.level.toUpperCase();
      const scan = d.reading_type === 'scan' ? ` · ${t('glucose.scan')}` : '';
      return `${value} · ${t(`context.${d.context}`)}${scan}`;
    }
    case 'insulin':
      return [
        `${num(d.units, lang)} U`,
        t(`insulin.kind.${d.kind}`),
        t(`insulin.delivery.${d.delivery}`),
        d.insulin_name,
      ]
        .filter(Boolean)
        .join(' · ');
    case 'carbs':
      return [`${num(d.grams, lang)} g`, d.label].filter(Boolean).join(' · ');
    case 'hypo': {
      const parts = [
        d.symptoms.map((s) => t(`symptom.${s}`)).join(', '),
        d.treatment,
        d.glucose
          ? `${formatGlucose(toMgDl(d.glucose.value, d.glucose.unit), unit, lang)} ${unit}`
          : null,
        d.needed_help ? t('hypo.needed-help-short') : null,
      ];
      return parts.filter(Boolean).join(' · ') || t('kind.hypo');
    }
    case 'ketones':
      return d.source === 'blood'
        ? `${num(d.value, lang)} mmol/L · ${t('ketones.blood')}`
        : `${num(d.value, lang)} + · ${t('ketones.urine')}`;
    case 'weight':
      return `${num(d.kg, lang)} kg`;
    case 'hba1c':
      return `${num(d.percent, lang)} %`;
    case 'activity':
      return [`${d.minutes} min`, t(`activity.${d.intensity}`), d.description].filter(Boolean).join(' · ');
    case 'note':
      return d.text;
    case 'education':
      return [
        d.topics.map((x) => t(`edu.topic.${x}`)).join(', '),
        d.understanding ? t(`nurse.understanding.${d.understanding}`) : null,
      ]
        .filter(Boolean)
        .join(' · ');
  }
}

/** mg/dL of a sensor day summary as text in the patient's unit. */
export function glucoseText(mgDl: number | null, unit: Unit, lang: string): string {
  return mgDl === null ? '—' : `${formatGlucose(mgDl, unit, lang)} ${unit}`;
}

export { formatNumber };
