#!/usr/bin/env bash
# Sets everything up and runs Ilot on a demo database: a real CGM recording of a child with
# type 1 diabetes (DirecNet, Tsalikian 2005, ../shared/data/cgm; subject 24, whose file has rows
# without a time) imported into a fresh encrypted store, then the
# consensus report with its AGP, the alerts and the observance periods. The README's run command.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo "building the care team's console (embedded in ilot server)…"
bash scripts/build-console.sh
echo "building ilot (release)…"
cargo build --release --locked -p ilot-cli --quiet
ilot=target/release/ilot

demo=target/demo
rm -rf "$demo" && mkdir -p "$demo"
export ILOT_DB="$demo/ilot-demo.db"
data=../shared/data/cgm/Tsalikian2005_processed.csv
[ -f "$data" ] || { echo "run: $data not found (the shared data sits beside the project)" >&2; exit 1; }

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
say $ilot profile set --pseudonym demo-001 --tz Europe/Paris --unit g/L
say $ilot prescription set --type type1 --monitoring cgm --injections 4 --start 2000-03-18 --basal 22:00=18
say $ilot import csv "$data" --unit mg/dL --subject 24 --tz Europe/Paris
say $ilot import csv "$data" --unit mg/dL --subject 24 --tz Europe/Paris
say $ilot log glucose 0,62 g/L --context before-meal --at "2000-03-25 11:40"
say $ilot log hypo --treatment "3 morceaux de sucre" --at "2000-03-25 11:45"
say $ilot log insulin 18 --kind basal --at "2000-03-25 22:05"
say $ilot report --from 2000-03-18 --to 2000-04-02
say $ilot alerts --from 2000-03-18 --to 2000-04-02
say $ilot observance
# A Bluetooth glucose meter: the built-in simulator speaks the real GLS bytes; the second
# download asks only for records after the last one stored, and gets none.
say $ilot ble download sim:meter
say $ilot ble download sim:meter
say $ilot ble decode 2a18 1b0100e4070b160a1e0000007cb0110000
say $ilot status
echo
echo "Demo database: $ILOT_DB (try: ILOT_DB=$ILOT_DB $ilot --help)"

# ---- The app, enrolled against a local operator server ----------------------------------------
server_db="sqlite:$PWD/$demo/server.db"
app_db="$PWD/$demo/app.db"
port=8480
export ILOT_KEYSTORE=${ILOT_KEYSTORE:-auto}
unset ILOT_DB
operator=$(ILOT_PASSWORD=demo-password-1 $ilot --db "$server_db" operator create-operator --username drmartin --name "Dr Martin")
totp_secret=$(printf '%s\n' "$operator" | sed -n 's/^ *or type the secret: //p')
patient_json=$($ilot --db "$server_db" operator create-patient --pseudonym DEMO-APP --by drmartin \
  --public-url "http://127.0.0.1:$port" --json)
invite=$(printf '%s' "$patient_json" | sed -n 's/.*"link": "\(.*\)".*/\1/p')
patient=$(printf '%s' "$patient_json" | sed -n 's/.*"patient_id": "\(.*\)".*/\1/p')
# A first message from the care team: the app's first sync brings it (Messages).
$ilot --db "$server_db" operator message --patient "$patient" --by drmartin \
  --text "Bienvenue dans la télésurveillance. Notez vos glycémies ; nous regardons vos données chaque semaine. Dr Martin" >/dev/null
# The demo care team's patients: real recordings moved to end now (scripts/demo-patients.mjs),
# each enrolled and synced by its own `ilot` device below, as a patient's phone would.
declare -a demo_names demo_links demo_csvs
while IFS=$'\t' read -r name csv; do
  json=$($ilot --db "$server_db" operator create-patient --pseudonym "$name" --by drmartin \
    --public-url "http://127.0.0.1:$port" --json)
  demo_names+=("$name"); demo_csvs+=("$csv")
  demo_links+=("$(printf '%s' "$json" | sed -n 's/.*"link": "\(.*\)".*/\1/p')")
done < <(node scripts/demo-patients.mjs "$demo/recordings")
# Every demo device enrols from 127.0.0.1: more than the default 10 enrolments per address.
$ilot --db "$server_db" server --listen "127.0.0.1:$port" --enrol-per-ip 100 > "$demo/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$demo/server.log" && break; sleep 0.1; done
echo "enrolling and syncing ${#demo_names[@]} demo patients' devices (real CGM recordings)…"
for i in "${!demo_names[@]}"; do
  home="$demo/devices/${demo_names[$i]}" && mkdir -p "$home"
  dev() { ILOT_KEYSTORE=file $ilot --db "$home/app.db" "$@" > /dev/null; }
  dev enroll "${demo_links[$i]}"
  dev consent grant
  dev import csv "${demo_csvs[$i]}" --unit mg/dL --tz UTC
  dev sync
done
code_now() { node -e "import('./tests/e2e/server.mjs').then((m) => console.log(m.totp(process.argv[1])))" "$totp_secret"; }
echo
echo "The care team's console: http://127.0.0.1:$port/"
echo "  user drmartin, password demo-password-1"
echo "  authenticator secret $totp_secret (add it to an authenticator app and type its code;"
echo "  or take the code of this moment, valid 30 s: $(code_now); a new one: bash scripts/totp.sh $totp_secret)"
say $ilot --db "$app_db" enroll "$invite"
say $ilot --db "$app_db" consent grant

echo "building the app (UI embedded)…"
(cd ui && npm run --silent build)
cargo build --locked -p ilot-app --features custom-protocol --quiet
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "starting Ilot (demo data; local operator server on port $port; close the window to finish)"
  echo "  the care team can write meanwhile, from another terminal:"
  echo "  $ilot --db $server_db operator message --patient $patient --by drmartin --text 'Bonjour'"
  echo "  then 'Synchroniser maintenant' in the app brings it"
  ILOT_DB="$app_db" ILOT_DEMO=1 target/debug/ilot-app || true
else
  echo "no display here: the app window needs one (on a desktop, this script opens it)."
  echo "the app is built: ILOT_DB=$app_db ILOT_DEMO=1 target/debug/ilot-app"
fi
say $ilot --db "$app_db" sync
say $ilot --db "$server_db" operator alerts
