#!/usr/bin/env bash
# Sets everything up and runs every test: formatting, lints, architecture invariants, unit and
# integration tests (with a real Secret Service for the keyring), the reference check of the
# metrics, the CLI's end-to-end and kill tests, the front end's tests and the desktop end-to-end
# tests of the real app window. This is the README's test command; .ci/run
# calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# The real CGM recordings the tests read sit beside the project (../shared), as in CI.
if [ ! -d ../shared/data/cgm ]; then
  echo "test: ../shared/data/cgm not found: clone the project beside the shared folder" >&2
  echo "      (e.g. d=\$(mktemp -d ../ci.XXXX) && git clone -q . \$d && cd \$d && bash .ci/run)" >&2
  exit 1
fi

# Each step says how much disk is left: a full build and its test binaries take several GB, and
# a disk that fills up fails far from its cause (PostgreSQL cannot write a block).
step() {
  printf '\n==> %s\n' "$*"
  df -h --output=avail . 2>/dev/null | tail -1 | sed 's/^ */    disk free: /' || true
}

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "architecture invariants"
bash scripts/check-architecture.sh

step "the local OpenID provider of the Pro Santé Connect tests (node-oidc-provider, npm)"
npm ci --prefix crates/ilot-server/tests/psc --no-audit --no-fund --silent

step "tests (inside a private D-Bus session with an unlocked gnome-keyring)"
dbus-run-session -- bash scripts/with-keyring.sh cargo test --workspace --locked

step "the server's OpenAPI document under schemathesis (property-based, from PyPI)"
bash scripts/test-api.sh

step "FHIR export: R4 (fhir.resources, PyPI; JSON schema, npm) and the ANS profiles (FHIRPath)"
bash scripts/test-fhir.sh

step "front end: type check, Vitest, build"
bash scripts/test-ui.sh

step "the care team's console: type check, Vitest, build, real browser against a real server"
bash scripts/test-console.sh

step "desktop end-to-end: the real app window under Xvfb, through tauri-driver"
bash scripts/test-e2e.sh

step "benchmarks compile (run them with scripts/bench.sh)"
cargo bench --locked -p ilot-store -p ilot-rules -p ilot-ble -p ilot-wire -p ilot-sync -p ilot-server -p ilot-import --no-run

echo
echo "all tests passed"
