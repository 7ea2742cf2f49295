#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on the current D-Bus
# session bus, so the keyring path is tested for real. Call it inside `dbus-run-session`.
set -euo pipefail
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring: no D-Bus session; run it as: dbus-run-session -- $0 $*" >&2
  exit 1
fi
# A throwaway keyring in a private home: never touch the developer's own keyring.
export XDG_DATA_HOME="$(mktemp -d)"
printf 'ilot-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
export ILOT_KEYRING_TEST=1
exec "$@"
