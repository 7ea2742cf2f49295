/// <reference types="vitest/config" />
// The care team's console. Built into dist/, which `ilot server` embeds at compile time
// (crates/ilot-server/build.rs). Code shared with the patient app (TIR bands, number formats,
// the TIR wording of its catalogue) is imported from ui/src through the `@ui` alias, never
// copied; `dedupe` keeps one copy of svelte and svelte-i18n for both.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const ui = fileURLToPath(new URL('../../../ui/src', import.meta.url));

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  resolve: {
    alias: { '@ui': ui },
    dedupe: ['svelte', 'svelte-i18n'],
    conditions: mode === 'test' ? ['browser'] : undefined,
  },
  // `npm run dev` against a local `ilot server` on the default port.
  server: { port: 5175, strictPort: true, proxy: { '/v1': 'http://127.0.0.1:8480' } },
  // No inline anything (the server's CSP forbids it): assets are files, never data: URLs.
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0 },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
  },
}));
