#!/usr/bin/env bash
# Architecture invariant (ARCHITECTURE.md): the pure crates depend on no I/O crate, and neither
# they nor ilot-ble's codecs use files, the network, threads, processes or the clock.
# Every tool failure fails the check: a `cargo tree` or `grep` that cannot run proves nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

# The dependency tree of one crate (normal and build edges); exits if cargo tree fails.
tree_of() {
  local out
  if ! out=$(cargo tree --locked -p "$1" -e "$2" --prefix none 2>&1); then
    printf '%s\n' "$out" >&2
    echo "architecture: \`cargo tree -p $1\` failed: the dependency check cannot run" >&2
    exit 2
  fi
  printf '%s\n' "$out"
}

# The check itself must be able to fail: the store does depend on rusqlite.
store_deps=$(tree_of ilot-store normal)
if ! grep -q "^rusqlite v" <<<"$store_deps"; then
  echo "architecture: the dependency check is broken (ilot-store shows no rusqlite)" >&2
  exit 2
fi

pure_crates="ilot-domain ilot-rules ilot-wire ilot-import ilot-report"
for crate in $pure_crates; do
  deps=$(tree_of "$crate" normal,build)
  for io in rusqlite tokio reqwest btleplug keyring; do
    if grep -q "^$io v" <<<"$deps"; then
      echo "architecture: $crate depends on $io (an I/O crate); pure crates must not" >&2
      status=1
    fi
  done
done

# No file, network, thread, process or environment access and no clock in the pure crates'
# sources (unit tests included: fixtures come in as data) nor in ilot-ble's pure modules (codecs,
# control-point state machine, clock model, record → entries, sequence numbers). Parsing an IP
# address (`std::net::IpAddr`) is pure; sockets (`TcpStream`, `UdpSocket`, name lookup) are not. 
# `grep` exits 1 for "no match" and 2 for an error (a path gone).
forbidden='\b(tokio|btleplug|std::fs|std::thread|std::process|std::env|SystemTime|Instant::now|Utc::now|Local::now|File::(open|create))\b|\bstd::net(::[^I]|::I[^p]|[^:]|$)'
paths=()
for crate in $pure_crates; do paths+=("crates/$crate/src"); done
paths+=(crates/ilot-ble/src/gatt crates/ilot-ble/src/gatt.rs crates/ilot-ble/src/control.rs
        crates/ilot-ble/src/clock crates/ilot-ble/src/clock.rs crates/ilot-ble/src/records
        crates/ilot-ble/src/records.rs crates/ilot-ble/src/seq.rs)
existing=()
for p in "${paths[@]}"; do
  # gatt, clock and records are a file and/or a folder of submodules; one of the two may be absent.
  if [ -e "$p" ]; then existing+=("$p"); fi
done
for must in crates/ilot-domain/src crates/ilot-rules/src crates/ilot-wire/src crates/ilot-import/src crates/ilot-report/src \
    crates/ilot-ble/src/control.rs crates/ilot-ble/src/records.rs crates/ilot-ble/src/seq.rs; do
  if [ ! -e "$must" ]; then
    echo "architecture: $must is gone: update scripts/check-architecture.sh" >&2
    exit 2
  fi
done
set +e
grep -rnE "$forbidden" "${existing[@]}"
found=$?
set -e
case $found in
  0) echo "architecture: the pure crates and ilot-ble's gatt/control/clock/records/seq must do no I/O and read no clock" >&2
     status=1 ;;
  1) ;;
  *) echo "architecture: grep failed: the purity scan cannot run" >&2
     exit 2 ;;
esac

[ $status -eq 0 ] && echo "architecture: ilot-domain, ilot-rules, ilot-wire, ilot-import, ilot-report and ilot-ble's gatt/control/clock/records/seq do no I/O and read no clock"
exit $status
