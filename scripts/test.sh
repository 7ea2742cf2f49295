#!/usr/bin/env bash
# Sets everything up and runs every test: formatting, lints, architecture invariants, unit and
# integration tests (with a real Secret Service for the keyring), the reference check of the
# metrics and the CLI's end-to-end and kill tests. This is the README's test command; .ci/run
# calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "architecture invariants"
bash scripts/check-architecture.sh

step "tests (inside a private D-Bus session with an unlocked gnome-keyring)"
dbus-run-session -- bash scripts/with-keyring.sh cargo test --workspace --locked

step "benchmarks compile"
cargo bench --workspace --locked --no-run >/dev/null 2>&1 || cargo bench --workspace --locked --no-run

echo
echo "all tests passed"
