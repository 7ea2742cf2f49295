#!/usr/bin/env bash
# Installs what building and testing Ilot needs on Debian 12 (and derivatives), then checks the
# toolchain. Safe to run again: apt is skipped when every package is already there.
# Other systems: install the equivalents of the packages below (a C compiler, pkg-config, the
# D-Bus development headers, gnome-keyring + libsecret tools for the keyring tests, python3,
# PostgreSQL's server programs) and run scripts/test.sh.
set -euo pipefail

packages=(
  build-essential pkg-config   # C parts: SQLCipher and its vendored OpenSSL
  libdbus-1-dev                # keyring's Secret Service backend
  dbus gnome-keyring libsecret-tools  # a real Secret Service for the keyring tests
  python3                      # independent reference implementation of the metrics
  python3-venv curl            # schemathesis and the FHIR validators (PyPI), in venvs
  postgresql                   # the server's production backend: tests start their own clusters
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev
  libssl-dev libxdo-dev        # the Tauri app (WebKitGTK)
  xvfb xauth webkit2gtk-driver # the app's window under a virtual display, driven by WebDriver
  x11-utils                    # xwininfo: the single-instance e2e counts the app's X windows
  chromium                     # the care team's console in a real browser (playwright-core)
  poppler-utils                # pdftotext, pdfinfo, pdftoppm: the AGP report's text, pages and rendering
)

missing=()
for p in "${packages[@]}"; do
  case "$p" in \#*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: this script knows apt (Debian/Ubuntu); install their equivalents and rerun" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The PostgreSQL tests run initdb/pg_ctl themselves (crates/ilot-testpg: a throwaway cluster on
# a free port, as the postgres user when run as root); the packaged cluster is not needed.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
  || { echo "setup: PostgreSQL's initdb not found: install the postgresql package" >&2; exit 1; }

command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust with rustup" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm not found: install Node.js 20+" >&2; exit 1; }

# The front end's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "setup: installing the front end's packages"
  # `npm ci` installs exactly the lock; when the registry mirror lacks the optional
  # other-platform binaries some packages list (e.g. @tauri-apps/cli-darwin-*), npm cannot record
  # them and `npm ci` refuses the lock, so fall back to `npm install`, which keeps the locked
  # versions of everything it can resolve.
  (cd ui && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
    || { echo "setup: npm ci refused the lock (optional platform packages missing from the registry); using npm install"; \
         npm install --no-audit --no-fund --loglevel=error; }; })
fi

# The care team's console (embedded in `ilot server`), same rule: exactly as locked.
console=crates/ilot-server/console
if [ ! -d $console/node_modules ] || [ $console/package-lock.json -nt $console/node_modules/.package-lock.json ]; then
  echo "setup: installing the console's packages"
  (cd $console && npm ci --no-audit --no-fund --loglevel=error)
fi

# The FHIR export's JSON-schema validator (scripts/test-fhir.sh), same rule.
if [ ! -d tests/fhir/node_modules ] || [ tests/fhir/package-lock.json -nt tests/fhir/node_modules/.package-lock.json ]; then
  echo "setup: installing the FHIR validators' packages"
  (cd tests/fhir && npm ci --no-audit --no-fund --loglevel=error)
fi

# tauri-driver (WebDriver for the app's window); pinned to 2.x, as 3.0 alphas exist.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
echo "setup: system ready ($(cargo --version))"
