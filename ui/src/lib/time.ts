// Times and dates for the patient, in the patient's time zone (profile), in words.

export type Translate = (key: string, opts?: { values?: Record<string, string | number> }) => string;

/** "à l'instant", "il y a 12 min", "il y a 3 h", "il y a 2 jours". */
export function ago(at: string | Date, now: Date, t: Translate): string {
  const then = typeof at === 'string' ? new Date(at) : at;
  const minutes = Math.floor((now.getTime() - then.getTime()) / 60_000);
  if (minutes < 1) return t('time.just-now');
  if (minutes < 60) return t('time.minutes-ago', { values: { n: minutes } });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t('time.hours-ago', { values: { n: hours } });
  return t('time.days-ago', { values: { n: Math.floor(hours / 24) } });
}

/** "dans 2 min", "dans moins d'une minute", "dans 1 h": when something will happen. */
export function inMinutes(at: string | Date, now: Date, t: Translate): string {
  const then = typeof at === 'string' ? new Date(at) : at;
  const minutes = Math.ceil((then.getTime() - now.getTime()) / 60_000);
  if (minutes <= 1) return t('time.within-a-minute');
  if (minutes < 60) return t('time.in-minutes', { values: { n: minutes } });
  return t('time.in-hours', { values: { n: Math.round(minutes / 60) } });
}

function locale(lang: string): string {
  return lang === 'en' ? 'en-GB' : 'fr-FR';
}

export function formatTime(at: string | Date, tz: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), { timeZone: tz, hour: '2-digit', minute: '2-digit' }).format(
    typeof at === 'string' ? new Date(at) : at,
  );
}

/** "jeudi 26 novembre 2026 à 14:30": an appointment, in full, in the patient's zone. */
export function formatAppointment(at: string | Date, tz: string, lang: string): string {
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: tz,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(typeof at === 'string' ? new Date(at) : at);
}

export function formatDateTime(at: string | Date, tz: string, lang: string, withYear = false): string {
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: tz,
    day: 'numeric',
    month: 'long',
    ...(withYear ? { year: 'numeric' } : {}),
    hour: '2-digit',
    minute: '2-digit',
  }).format(typeof at === 'string' ? new Date(at) : at);
}

/** A local calendar date `YYYY-MM-DD` in words ("samedi 22 novembre"). */
export function formatDay(date: string, lang: string, withYear = false): string {
  const [y, m, d] = date.split('-').map(Number);
  const utcNoon = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, 12));
  return new Intl.DateTimeFormat(locale(lang), {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(withYear ? { year: 'numeric' } : {}),
  }).format(utcNoon);
}

/** Parts of an instant in `tz`. */
export function localParts(at: Date, tz: string): { date: string; hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    hour: Number(get('hour')),
    minute: Number(get('minute')),
  };
}

/** `YYYY-MM-DDTHH:MM` in `tz`, the value of a datetime-local field and what the shell reads. */
export function localInput(at: Date, tz: string): string {
  const p = localParts(at, tz);
  return `${p.date}T${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/** The local date `days` before/after `date` (`YYYY-MM-DD`). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days));
  return t.toISOString().slice(0, 10);
}
