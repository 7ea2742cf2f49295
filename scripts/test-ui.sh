#!/usr/bin/env bash
# The patient app's front end: type check (svelte-check, TypeScript strict), unit and component
# tests (Vitest: components, stores, units, i18n completeness), production build into ui/dist.
# Self-contained: installs the UI packages from package-lock.json when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../ui"

command -v npm >/dev/null || { echo "test-ui: npm not found; install Node 20+ (scripts/setup.sh)" >&2; exit 1; }
if [ ! -d node_modules ]; then
  echo "test-ui: installing the UI packages (npm ci)"
  npm ci --no-audit --no-fund
fi

echo "==> svelte-check"
npm run --silent check
echo "==> vitest"
npm test --silent
echo "==> vite build"
npm run --silent build
