// Vitest: the French catalogue loaded synchronously, as the console starts.
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/svelte';
import { setupI18n, setLanguage } from '../lib/i18n';

setupI18n('fr');
afterEach(() => {
  cleanup();
  setLanguage('fr');
});
