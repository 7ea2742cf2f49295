#!/usr/bin/env bash
# Runs every benchmark (release). Each prints our number, a baseline measured in the same run and
# the ratio; BENCHMARKS.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo bench --locked -p ilot-store --bench ingest
cargo bench --locked -p ilot-import --bench import
cargo bench --locked -p ilot-rules --bench metrics
cargo bench --locked -p ilot-rules --bench observance
cargo bench --locked -p ilot-ble --bench download
cargo bench --locked -p ilot-wire --bench seal
cargo bench --locked -p ilot-sync --bench backlog
cargo bench --locked -p ilot-sync --bench fleet
cargo bench --locked -p ilot-server --bench pg_size
cargo bench --locked -p ilot-server --bench triage
