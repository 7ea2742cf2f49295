// Vitest: French catalogue loaded synchronously, as the app starts; each test renders into a
// clean document.
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/svelte';
import { setupI18n, setLanguage } from '../lib/i18n';

setupI18n('fr');
afterEach(() => {
  cleanup();
  setLanguage('fr');
});

// jsdom has no matchMedia (uPlot reads it at import, the layout store listens to it): answer
// `(max-width: Npx)` from window.innerWidth, which a test may set before rendering.
if (!window.matchMedia) {
  window.matchMedia = (query: string): MediaQueryList => {
    const max = /max-width:\s*(\d+)px/.exec(query);
    return {
      matches: max ? window.innerWidth <= Number(max[1]) : false,
      media: query,
      onchange: null,
      addEventListener: () => {},
      removeEventListener: () => {},
      addListener: () => {},
      removeListener: () => {},
      dispatchEvent: () => false,
    };
  };
}
