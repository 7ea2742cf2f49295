#!/usr/bin/env bash
# Prints the current 6-digit TOTP code of a secret (base32), as an authenticator app would: for
# the demo care team of scripts/run.sh, whose secret it prints.  bash scripts/totp.sh SECRET
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: bash scripts/totp.sh SECRET" >&2; exit 2; }
node -e "import('./tests/e2e/server.mjs').then((m) => console.log(m.totp(process.argv[1])))" "$1"
