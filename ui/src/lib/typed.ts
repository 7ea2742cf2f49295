// Numbers shown back in an edit form as the patient would type them (French comma).
export function typed(v: number | null | undefined, lang: string): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return lang.startsWith('fr') ? s.replace('.', ',') : s;
}

/** A decimal typed with a comma or a point, or null. */
export function readNumber(text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  return Number(t);
}
