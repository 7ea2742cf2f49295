// Real CGM recordings from ../shared/data/cgm, for the console's browser tests (e2e/*.mjs) and
// the demo patients of scripts/run.sh (scripts/demo-patients.mjs): read, deduplicated, moved in
// time (values untouched) and written as the CSV `ilot import csv` reads.

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const data = join(root, '../shared/data/cgm');

// ---- The recordings ------------------------------------------------------------------------

/** Subject id → [{t (ms, clock time read as UTC), gl (as written)}], time-sorted, one per time. */
export function recordings(file) {
  const by = new Map();
  const lines = readFileSync(join(data, file), 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const [id, time, gl] = line.split(',').map((f) => f?.replace(/"/g, '').trim());
    if (!id || !time || time === 'NA' || !gl || gl === 'NA') continue;
    const t = Date.parse(`${time.replace(' ', 'T')}Z`);
    if (Number.isNaN(t)) continue;
    if (!by.has(id)) by.set(id, []);
    by.get(id).push({ t, gl });
  }
  for (const [id, rows] of by) {
    rows.sort((a, b) => a.t - b.t);
    // The device keeps the first reading of a time (a second one is a reported conflict).
    by.set(
      id,
      rows.filter((r, i) => i === 0 || r.t !== rows[i - 1].t),
    );
  }
  return by;
}

/** The recording moved so that its last reading is at `end` (values untouched). */
export function endingAt(rows, end) {
  const shift = end - rows[rows.length - 1].t;
  return rows.map((r) => ({ t: r.t + shift, gl: r.gl }));
}

export function csvOf(points) {
  const iso = (t) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  return `time,gl\n${points.map((p) => `${iso(p.t)},${p.gl}`).join('\n')}\n`;
}

