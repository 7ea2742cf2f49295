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
// `(max-width: Npx)` from window.innerWidth and `(max-height: Npx)` from window.innerHeight,
// which a test may set before rendering (every condition of the query must hold).
if (!window.matchMedia) {
  window.matchMedia = (query: string): MediaQueryList => {
    const width = /max-width:\s*(\d+)px/.exec(query);
    const height = /max-height:\s*(\d+)px/.exec(query);
    const holds = (m: RegExpExecArray | null, size: number) => m === null || size <= Number(m[1]);
    return {
      matches: (width !== null || height !== null) && holds(width, window.innerWidth) && holds(height, window.innerHeight),
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
