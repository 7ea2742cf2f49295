// The demo care team's patients for scripts/run.sh: real CGM recordings from ../shared/data/cgm
// (values untouched) moved in time so that they end a few minutes ago, one CSV per patient, as
// the console's browser test does (crates/ilot-server/console/e2e/recordings.mjs).
//
//   node scripts/demo-patients.mjs OUT_DIR   → prints "NAME<TAB>CSV" lines
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvOf, endingAt, recordings } from '../crates/ilot-server/console/e2e/recordings.mjs';

const out = process.argv[2];
if (!out) throw new Error('usage: node scripts/demo-patients.mjs OUT_DIR');
mkdirSync(out, { recursive: true });
const MIN = 60_000;
const end = Date.now() - 10 * MIN;
const pick = (m, n) => [...m.keys()].sort().slice(0, n).map((k) => m.get(k));
const plan = [];
pick(recordings('ExampleData5Subjects.csv'), 5).forEach((r, i) => plan.push([`DEMO-E${i + 1}`, endingAt(r, end - i * 7 * MIN)]));
pick(recordings('Hall2018_processed.csv'), 4).forEach((r, i) => {
  // Twice back to back: about two weeks of sensor data.
  const second = endingAt(r, end - i * 11 * MIN);
  plan.push([`DEMO-H${i + 1}`, [...endingAt(r, second[0].t - 5 * MIN), ...second]]);
});
pick(recordings('Tsalikian2005_processed.csv'), 3).forEach((r, i) => plan.push([`DEMO-T${i + 1}`, endingAt(r, end - i * 13 * MIN)]));
const dub = [...recordings('Dubosson2018_processed.csv').values()].filter((r) => r.length > 900);
// One patient silent for three days: the server's "no data" alert.
plan.push(['DEMO-SILENT', endingAt(dub[0], end - 3 * 24 * 60 * MIN)]);
for (const [name, points] of plan) {
  const file = join(out, `${name}.csv`);
  writeFileSync(file, csvOf(points));
  console.log(`${name}\t${file}`);
}
