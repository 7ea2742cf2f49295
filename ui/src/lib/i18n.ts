// svelte-i18n set up synchronously with both catalogues (they are small and must work offline):
// French by default, English second. Catalogues are flat: the key is the whole dotted name, so
// `advice.hyper` and `advice.hyper.ketones` (ilot-rules advice keys) can both exist.

import { addMessages, init, locale, _, getLocaleFromNavigator } from 'svelte-i18n';
import { get } from 'svelte/store';
import fr from '../i18n/fr.json';
import en from '../i18n/en.json';
import type { Language } from './ipc';

addMessages('fr', fr);
addMessages('en', en);

export const LANGUAGES: readonly Language[] = ['fr', 'en'];

export function setupI18n(initial?: Language): void {
  const nav = getLocaleFromNavigator() ?? 'fr';
  init({ fallbackLocale: 'fr', initialLocale: initial ?? (nav.startsWith('en') ? 'en' : 'fr') });
}

export function setLanguage(lang: Language): void {
  locale.set(lang);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

export function currentLanguage(): Language {
  return (get(locale) ?? 'fr').startsWith('en') ? 'en' : 'fr';
}

/** Translate outside components (e.g. notifications). */
export function translate(key: string, values?: Record<string, string | number>): string {
  return get(_)(key, values ? { values } : undefined);
}

export { _, locale };
