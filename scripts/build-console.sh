#!/usr/bin/env bash
# Builds the care team's console (crates/ilot-server/console: Svelte + TypeScript + Vite) into
# crates/ilot-server/console/dist, which the next cargo build of ilot-server embeds in the
# binary. `--check` also runs svelte-check (warnings fail) and the Vitest tests. Needs Node 20+
# and the packages scripts/setup.sh installs (the console imports shared code from ui/src).
set -euo pipefail
cd "$(dirname "$0")/../crates/ilot-server/console"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" = "--check" ]; then
  npm run --silent check
  npm run --silent test
fi
npm run --silent build
