// Glucose units, mirroring crates/ilot-domain/src/glucose.rs: values are kept in canonical
// mg/dL and converted for display only. 1 g/L = 100 mg/dL; 1 mmol/L = 18.016 mg/dL (SPEC §3).

export type Unit = 'g/L' | 'mg/dL' | 'mmol/L';
export const UNITS: readonly Unit[] = ['g/L', 'mg/dL', 'mmol/L'];

export const MG_DL_PER_G_L = 100;
export const MG_DL_PER_MMOL_L = 18.016;
/** Physically plausible range for a reading (SPEC §3); outside it a meter says LO or HI. */
export const PLAUSIBLE_MG_DL = { min: 10, max: 600 } as const;

export function mgDlPerUnit(unit: Unit): number {
  switch (unit) {
    case 'g/L':
      return MG_DL_PER_G_L;
    case 'mg/dL':
      return 1;
    case 'mmol/L':
      return MG_DL_PER_MMOL_L;
  }
}

/** Decimals shown in each unit: 1,26 g/L, 126 mg/dL, 7.0 mmol/L. */
export function displayDecimals(unit: Unit): number {
  switch (unit) {
    case 'g/L':
      return 2;
    case 'mg/dL':
      return 0;
    case 'mmol/L':
      return 1;
  }
}

/** Removes binary representation noise at 1e-6 mg/dL, as the domain does (1.80 g/L is 180). */
function clean(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export function toMgDl(value: number, unit: Unit): number {
  return clean(value * mgDlPerUnit(unit));
}

export function fromMgDl(mgDl: number, unit: Unit): number {
  return unit === 'mg/dL' ? mgDl : mgDl / mgDlPerUnit(unit);
}

/** A number for display, with the French decimal comma when `lang` is French. */
export function formatNumber(v: number, decimals: number, lang: string): string {
  const s = v.toFixed(decimals);
  return lang.startsWith('fr') ? s.replace('.', ',') : s;
}

/** A glucose for display in `unit`; LO/HI stay words, never numbers. */
export function formatGlucose(
  mgDl: number | null,
  unit: Unit,
  lang: string,
  level: 'value' | 'lo' | 'hi' = 'value',
): string {
  if (level === 'lo') return 'LO';
  if (level === 'hi') return 'HI';
  if (mgDl === null) return '—';
  return formatNumber(fromMgDl(mgDl, unit), displayDecimals(unit), lang);
}

/** A decimal as a person types it: `1,26` or `1.26`; `null` when it is not a number. */
export function parseDecimal(text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

export type GlucoseCheck =
  | { ok: true; mgDl: number | null; level: 'value' | 'lo' | 'hi' }
  | { ok: false; error: 'empty' | 'not-a-number' | 'implausible' };

/**
 * Checks a typed glucose before it is sent, so the form can say what is wrong at once. The shell
 * validates again with the domain's rules; this only saves the round trip.
 */
export function checkGlucose(text: string, unit: Unit): GlucoseCheck {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'empty' };
  const upper = t.toUpperCase();
  if (upper === 'LO' || upper === 'LOW') return { ok: true, mgDl: null, level: 'lo' };
  if (upper === 'HI' || upper === 'HIGH') return { ok: true, mgDl: null, level: 'hi' };
  const v = parseDecimal(t);
  if (v === null) return { ok: false, error: 'not-a-number' };
  const mg = toMgDl(v, unit);
  if (mg < PLAUSIBLE_MG_DL.min || mg > PLAUSIBLE_MG_DL.max) return { ok: false, error: 'implausible' };
  return { ok: true, mgDl: mg, level: 'value' };
}

/** The plausible range written in `unit`, for messages ("0,10 à 6,00 g/L"). */
export function plausibleRange(unit: Unit, lang: string): { min: string; max: string } {
  return {
    min: formatGlucose(PLAUSIBLE_MG_DL.min, unit, lang),
    max: formatGlucose(PLAUSIBLE_MG_DL.max, unit, lang),
  };
}
