#!/usr/bin/env bash
# Architecture invariant (ARCHITECTURE.md): the pure crates depend on no I/O crate.
set -euo pipefail
status=0
# The check itself must be able to fail: the store does depend on rusqlite.
if ! cargo tree -p ilot-store -e normal --prefix none 2>/dev/null | grep -q "^rusqlite v"; then
  echo "architecture: the dependency check is broken (ilot-store shows no rusqlite)" >&2
  exit 1
fi
for crate in ilot-domain ilot-rules $( [ -d crates/ilot-wire ] && echo ilot-wire ); do
  for io in rusqlite tokio reqwest btleplug keyring; do
    if cargo tree -p "$crate" -e normal,build --prefix none 2>/dev/null | grep -q "^$io v"; then
      echo "architecture: $crate depends on $io (an I/O crate); pure crates must not" >&2
      status=1
    fi
  done
done
# Inside ilot-ble, the codecs, the control-point state machine and the clock model are pure too.
pure_ble="crates/ilot-ble/src/gatt crates/ilot-ble/src/control.rs crates/ilot-ble/src/clock.rs"
if grep -rnE '\b(tokio|btleplug|std::fs|std::net|std::thread|SystemTime|Instant::now|Utc::now|Local::now)\b' $pure_ble; then
  echo "architecture: ilot-ble's gatt/control/clock must stay pure (no I/O, no clock)" >&2
  status=1
fi
[ $status -eq 0 ] && echo "architecture: ilot-domain, ilot-rules, ilot-wire and ilot-ble's gatt/control/clock do no I/O"
exit $status
