// Numbers and dates for the table: rounding happens here, for display only.
import { formatNumber } from '@ui/lib/units';

export function pct(v: number | null | undefined, lang: string, decimals = 0): string {
  return v === null || v === undefined ? '—' : `${formatNumber(v, decimals, lang)} %`;
}

export function dateTime(iso: string | null, lang: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

export function day(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'short' }).format(
    new Date(`${iso}T12:00:00Z`),
  );
}

/** A `YYYY-MM-DD` day with its year ("3 mars 2026"), for a history that may span years. */
export function dayWithYear(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${iso}T12:00:00Z`),
  );
}

export { formatNumber };

/** Cents as an amount in euros (display only). */
export function euros(cents: number, lang: string): string {
  return new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { style: 'currency', currency: 'EUR' }).format(cents / 100);
}

/** A `YYYY-MM` month in words ("mars 2026"). */
export function monthName(month: string, lang: string): string {
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(`${month}-15T12:00:00Z`),
  );
}
