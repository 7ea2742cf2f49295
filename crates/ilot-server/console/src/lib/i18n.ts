// svelte-i18n with the console's catalogues (French first, English second), plus the TIR
// wording of the patient app's catalogue (ui/src/i18n), so that both say the same.

import { addMessages, init, locale, _ } from 'svelte-i18n';
import { get } from 'svelte/store';
import fr from '../i18n/fr.json';
import en from '../i18n/en.json';
import uiFr from '@ui/i18n/fr.json';
import uiEn from '@ui/i18n/en.json';

export type Language = 'fr' | 'en';
export const LANGUAGES: readonly Language[] = ['fr', 'en'];

/** The keys taken from the patient app's catalogue (the shared charts' words, entry kinds,
 * meal contexts, sources, insulin kinds, ketone sources). */
export const SHARED_PREFIXES = ['tir.', 'agp.', 'chart.', 'kind.', 'context.', 'source.', 'insulin.kind.', 'ketones.'];

export function shared(c: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => SHARED_PREFIXES.some((p) => k.startsWith(p))));
}

addMessages('fr', shared(uiFr), fr);
addMessages('en', shared(uiEn), en);

export function setupI18n(initial: Language = 'fr'): void {
  init({ fallbackLocale: 'fr', initialLocale: initial });
  if (typeof document !== 'undefined') document.documentElement.lang = initial;
}

export function setLanguage(lang: Language): void {
  locale.set(lang);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export function currentLanguage(): Language {
  return (get(locale) ?? 'fr').startsWith('en') ? 'en' : 'fr';
}

export { _, locale };
