#!/usr/bin/env bash
# The care team's console (crates/ilot-server/console): type check (svelte-check, warnings
# fail), Vitest, the production build, `ilot` built with that build embedded, then the
# real-browser test: system Chromium driven by playwright-core against a real `ilot server`
# whose patients were enrolled and synced by real `ilot` devices (e2e/triage.mjs: login, triage,
# logout; e2e/patient.mjs: the patient page, acknowledgement, prescription edit and message
# reaching the device; e2e/billing.mjs: the billing screen and its CSV; e2e/identity.mjs: the
# identity (INS) panel with a wrong key refused in place, INSi, the proofs and the history;
# e2e/psc.mjs: the login with Pro Santé Connect through a real local OpenID provider;
# e2e/record.mjs: ending telesurveillance, restricting a record, reopening it and its
# interruption listed).
# Screenshots: artifacts/screenshots/console-*.png; numbers: artifacts/console-e2e.json and
# artifacts/console-patient.json.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "console: $chromium not found: install the chromium package (scripts/setup.sh)" >&2; exit 1; }
[ -d ../shared/data/cgm ] || { echo "console: ../shared/data/cgm not found" >&2; exit 1; }

bash scripts/build-console.sh --check
cargo build --locked -q -p ilot-cli
mkdir -p artifacts/screenshots
target=${CARGO_TARGET_DIR:-$PWD/target}
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/triage.mjs)
# The billing screen and its CSV (e2e/billing.mjs).
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/billing.mjs)
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/patient.mjs)
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/identity.mjs)
# "Se connecter avec Pro Santé Connect" through a real local OpenID provider (e2e/psc.mjs).
npm ci --prefix crates/ilot-server/tests/psc --no-audit --no-fund --silent
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/psc.mjs)
# Ending telesurveillance and restricting a record from the patient page (e2e/record.mjs).
(cd crates/ilot-server/console && CHROMIUM="$chromium" ILOT_BIN="$target/debug/ilot" node e2e/record.mjs)
