#!/usr/bin/env bash
# Desktop end-to-end tests of the real Ilot window: builds the UI and the app with the UI
# embedded (feature custom-protocol), starts a private Xvfb, and drives the app through
# tauri-driver + WebKitWebDriver (tests/e2e/run.mjs; each scenario starts its own tauri-driver
# with a fresh data folder; the enrolled scenario also starts a real `ilot server`). Screenshots
# of every step go to artifacts/screenshots/.
#
#   bash scripts/test-e2e.sh           the patient's path (debug build)
#   bash scripts/test-e2e.sh --phone   only the phone sizes (390×844, 360×640) and the single instance
#   bash scripts/test-e2e.sh --perf    cold start, 90 days of CGM in the charts, memory with a
#                                      year of data (release build; numbers in artifacts/*-metrics.json)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

suite=patient
profile=debug
cargo_profile=()
case "${1:-}" in
  "") ;;
  --phone) suite=phone ;;
  --perf) suite=perf; profile=release; cargo_profile=(--release) ;;
  *) echo "usage: $0 [--phone|--perf]" >&2; exit 2 ;;
esac

missing=()
command -v Xvfb >/dev/null || missing+=("Xvfb (apt: xvfb)")
command -v WebKitWebDriver >/dev/null || [ -x /usr/bin/WebKitWebDriver ] || missing+=("WebKitWebDriver (apt: webkit2gtk-driver)")
driver=$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")
[ -x "$driver" ] || missing+=("tauri-driver (cargo install tauri-driver --version '^2' --locked)")
command -v node >/dev/null || missing+=("node 20+")
command -v dbus-daemon >/dev/null || missing+=("dbus-daemon (apt: dbus; the single-instance scenario's session bus)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'test-e2e: missing: %s\nrun scripts/setup.sh first\n' "${missing[*]}" >&2
  exit 1
fi

echo "==> UI build"
# (axe-core, injected into the webview by the phone scenarios, came with issue #13: an older
# node_modules without it is brought up to date from the lock.)
(cd ui && { [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund || npm install --no-audit --no-fund; } && npm run --silent build)

echo "==> app build ($profile, UI embedded)"
cargo build --locked -p ilot-app --features custom-protocol "${cargo_profile[@]}"
echo "==> ilot build (the operator server of the enrolled scenario)"
cargo build --locked -p ilot-cli "${cargo_profile[@]}"
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
app="$target_dir/$profile/ilot-app"

# A private X server on the first free display number; stopped (by its pid) on exit.
xvfb_pid=""
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
for n in $(seq 90 189); do
  if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then display=":$n"; break; fi
done
[ -n "${display:-}" ] || { echo "test-e2e: no free X display number" >&2; exit 1; }
Xvfb "$display" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
kill -0 "$xvfb_pid" 2>/dev/null || { echo "test-e2e: Xvfb did not start on $display" >&2; exit 1; }
export DISPLAY=$display

echo "==> e2e ($suite) on $DISPLAY"
rm -rf "$root/artifacts/screenshots"
node tests/e2e/run.mjs --app "$app" --ilot "$target_dir/$profile/ilot" --driver "$driver" --artifacts "$root/artifacts" --suite "$suite"
