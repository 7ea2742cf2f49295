// The console's "Facturation" screen in a real browser (system Chromium driven by playwright-core)
// against a real `ilot server` whose patients were enrolled (and, for those who consented,
// synced) by real `ilot` devices with real CGM recordings from ../shared/data/cgm.
//
// Four patients whose telemonitoring began 45 days ago, so that period 1 is over: one with data
// and a first-month education session (billable; its pseudonym holds `;` and quotes), one
// without the session (no accompaniment), one consented but silent (interrupted), one who
// never consented. The test picks the month of period 1's last day with the keyboard, checks
// the table against the verdicts written here from the SPEC, downloads the CSV from the page
// and checks it opens in a French spreadsheet as is (BOM, `;`, decimal comma, CRLF, quoting)
// and says row by row what the API's JSON says; opens a patient's periods from the table; a
// nurse is refused the billing API; axe-core finds no serious or critical violation.
// Screenshots: artifacts/screenshots/console-billing*.png.
//
//   node e2e/billing.mjs        (scripts/test-console.sh builds everything first)
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { totp } from '../../../../tests/e2e/server.mjs';
import * as h from './harness.mjs';
import { PASSWORD, root, shots } from './harness.mjs';
import { csvOf, endingAt, recordings } from './recordings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const fr = JSON.parse(readFileSync(join(here, '../src/i18n/fr.json'), 'utf8'));
const DAY = 24 * 3600 * 1000;

const check = h.checker('billing e2e');

/** The first subjects' recordings of a file that last less than 10 days: [{t (ms), gl (as written)}], time-sorted. */
function shortRecordings(file, n) {
  const by = recordings(file);
  return [...by.keys()]
    .sort()
    .map((k) => by.get(k))
    .filter((rows) => rows[rows.length - 1].t - rows[0].t < 10 * DAY)
    .slice(0, n);
}

/** RFC 4180 with `;`: quoted fields may hold `;`, doubled quotes and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ';') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      check(c !== '\n', `a bare LF at ${i}`);
      field += c;
    }
  }
  check(field === '' && row.length === 0, 'the last line does not end with CRLF');
  return rows;
}

const addDays = (iso, n) => new Date(Date.parse(`${iso}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

async function setUp(dir) {
  const sdb = await h.serverDb(dir);
  const { base, cli } = sdb;
  const secret = h.secretOf(await h.createOperator(cli, ['--username', 'drmartin', '--name', 'Dr Martin']));
  const nurse = h.secretOf(await h.createOperator(cli, ['--username', 'ide', '--name', 'IDE Durand', '--role', 'nurse']));
  check(secret && nurse, 'create-operator printed no TOTP secret');
  await h.createOtherTeam(cli);

  // Telemonitoring began 45 days ago (UTC date; the patients' zone is Europe/Paris): period 1
  // is [start, start + 29], over.
  const start = new Date(Date.now() - 45 * DAY).toISOString().slice(0, 10);
  const startMs = Date.parse(`${start}T00:00:00Z`);
  const recs = shortRecordings('Tsalikian2005_processed.csv', 2);
  check(recs.length === 2, 'two short recordings');
  const plan = [
    { name: 'Dupont; "Jo"', data: recs[0], session: true, consent: true, reasons: [] },
    { name: 'Martin', data: recs[1], session: false, consent: true, reasons: ['no-accompaniment'] },
    { name: 'Silence', data: null, session: false, consent: true, reasons: ['interrupted', 'no-accompaniment'] },
    { name: 'Sans consentement', data: null, session: false, consent: false, reasons: ['no-consent', 'interrupted', 'no-accompaniment'] },
  ];
  for (const p of plan) {
    p.created = JSON.parse(
      await cli(['operator', 'create-patient', '--pseudonym', p.name, '--by', 'drmartin', '--public-url', base, '--start', start, '--json']),
    );
  }
  const other = JSON.parse(
    await cli(['operator', 'create-patient', '--pseudonym', 'B-OTHER', '--by', 'drb', '--public-url', base, '--start', start, '--json']),
  );

  const { server, log } = await h.startServer(sdb, check);
  for (const p of [...plan, { name: 'B-OTHER', created: other, data: recs[0], consent: true }]) {
    const home = join(dir, p.created.patient_id);
    const dev = h.device(home);
    await dev(['enroll', p.created.link]);
    if (!p.consent) continue;
    await dev(['consent', 'grant']);
    if (p.data) await h.importCgm(dev, home, csvOf(endingAt(p.data, startMs + 20 * DAY)));
    if (p.session) {
      await dev(['log', 'education', '--topic', 'insulin-technique', '--at', `${addDays(start, 2)}T10:00:00+00:00`]);
    }
    await dev(['sync']);
  }
  return { base, secret, nurse, plan, other, start, server, log };
}

const axe = (page, screen) => h.axe(page, screen, check);

const decimal = (x, n) => x.toFixed(n).replace('.', ',');
const euros = (c) => `${Math.floor(c / 100)},${String(c % 100).padStart(2, '0')}`;

async function main() {
  const { dir, profile } = h.folders('billing');
  let world;
  let context;
  try {
    world = await setUp(dir);
    const { base, plan } = world;
    const month = addDays(world.start, 29).slice(0, 7);
    context = await h.launchBrowser(profile, { acceptDownloads: true });
    const page = await context.newPage();
    const problems = h.watchProblems(page);

    await h.logIn(page, base, world.secret);
    await page.locator('[data-testid=triage-row]').first().waitFor();

    // To "Facturation" with the keyboard: Tab until the link has the focus, then Enter. The Tab
    // starts in the triage list (where the login button was) and goes through its filters and
    // three links or buttons a row before it wraps to the header: 22 presses for 4 patients.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.getByTestId('nav-billing').evaluate((a) => a === document.activeElement)) break;
    }
    check(await page.getByTestId('nav-billing').evaluate((a) => a === document.activeElement), 'the billing link never had the focus');
    // (The screen opens on this month, which may be the one wanted.)
    const answered = page.waitForResponse((r) => r.url().includes(`/v1/operator/billing?month=${month}`));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Facturation', level: 1 }).waitFor();
    // The month, typed into the labelled field.
    await page.getByLabel('Mois', { exact: true }).fill(month);
    const table = await (await answered).json();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=billing-row]').length === n, table.rows.length);

    // The verdicts, as SPEC §2 says them for these patients (period 1 of each).
    const mine = new Map(plan.map((p) => [p.created.patient_id, p]));
    check(!table.rows.some((r) => r.patient_id === world.other.patient_id), "another team's patient is billed");
    for (const p of plan) {
      const rows = table.rows.filter((r) => r.patient_id === p.created.patient_id && r.number === 1);
      check(rows.length === 1, `${p.name}: period 1 not in ${month}: ${JSON.stringify(table.rows)}`);
      const [r] = rows;
      check(r.first_day === world.start && r.last_day === addDays(world.start, 29), `${p.name}: dates ${r.first_day}–${r.last_day}`);
      check(JSON.stringify(r.reasons) === JSON.stringify(p.reasons), `${p.name}: reasons ${r.reasons}, expected ${p.reasons}`);
      check(r.billable === (p.reasons.length === 0), `${p.name}: billable ${r.billable}`);
      check(r.operator_cents === (r.billable ? 2800 : 0) && r.technical_cents === (r.billable ? 5000 : 0), `${p.name}: forfaits`);
    }
    const shown = await page.$$eval('[data-testid=billing-row]', (rows) => rows.map((r) => [r.dataset.patient, r.dataset.billable]));
    check(
      JSON.stringify(shown) === JSON.stringify(table.rows.map((r) => [r.patient_id, String(r.billable)])),
      `the page shows ${JSON.stringify(shown)}`,
    );
    const totals = await page.getByTestId('billing-totals').innerText();
    check(totals.includes('1 période facturable'), `totals: ${totals}`);
    await axe(page, 'billing');
    await page.screenshot({ path: join(shots, 'console-billing.png'), fullPage: true });

    // The CSV, downloaded from the page (keyboard: focus the link, Enter).
    await page.getByTestId('download-csv').focus();
    const downloading = page.waitForEvent('download');
    await page.keyboard.press('Enter');
    const download = await downloading;
    check(download.suggestedFilename() === `ilot-facturation-${month}.csv`, `file name ${download.suggestedFilename()}`);
    const bytes = readFileSync(await download.path());
    check(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, 'no UTF-8 byte-order mark');
    const text = bytes.subarray(3).toString('utf8');
    writeFileSync(join(root, 'artifacts/console-billing.csv'), bytes);
    check(text.includes('\r\n"Dupont; ""Jo""";'), `the pseudonym with ; and quotes is not quoted as RFC 4180 says:\n${text}`);
    const [head, ...records] = parseCsv(text);
    const col = (name) => {
      const i = head.indexOf(name);
      check(i >= 0, `no column ${name} in ${head.join(' | ')}`);
      return i;
    };
    check(records.length === table.rows.length, `${records.length} CSV rows for ${table.rows.length} in the JSON`);
    records.forEach((rec, i) => {
      const r = table.rows[i];
      const want = {
        Patient: r.pseudonym,
        'Identifiant patient': r.patient_id,
        'Période n°': String(r.number),
        Début: r.first_day,
        Fin: r.last_day,
        Attendu: decimal(r.expected, 1),
        Reçu: String(r.received),
        'Observance (%)': r.ratio === null ? '' : decimal(r.ratio * 100, 1),
        Facturable: r.billable ? 'oui' : 'non',
        Motif: r.reasons.map((x) => fr[`billing.reason.${x}`]).join(', '),
        'Série n°': r.series ? String(r.series.number) : '',
        'Forfait opérateur (code)': r.billable ? 'TVB' : '',
        'Forfait opérateur (€)': euros(r.operator_cents),
        'Forfait technique (€)': euros(r.technical_cents),
        'Total (€)': euros(r.operator_cents + r.technical_cents),
      };
      check(rec.length === head.length, `row ${i}: ${rec.length} fields`);
      for (const [k, v] of Object.entries(want)) check(rec[col(k)] === v, `row ${i} (${r.pseudonym}) ${k}: ${rec[col(k)]} ≠ ${v}`);
      check(mine.has(r.patient_id), `row ${i}: not a patient of the team`);
    });

    // A patient's periods, from the table.
    const martin = plan.find((p) => p.name === 'Martin').created.patient_id;
    await page.locator(`[data-testid=billing-row][data-patient="${martin}"] a`).click();
    await page.getByTestId('periods-table').waitFor();
    const first = page.locator('[data-testid=period-row][data-number="1"]');
    check((await first.getAttribute('data-reasons')) === 'no-accompaniment', `Martin's period 1: ${await first.getAttribute('data-reasons')}`);
    check((await page.getByTestId('accompaniment').innerText()).includes('non fait'), 'the accompaniment is not said missed');
    await axe(page, 'periods');
    await page.screenshot({ path: join(shots, 'console-billing-periods.png'), fullPage: true });

    // A nurse is refused the billing table by the server.
    const login = await fetch(`${base}/v1/operator/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ide', password: PASSWORD, totp: totp(world.nurse) }),
    });
    check(login.ok, `nurse login ${login.status}`);
    const { token } = await login.json();
    const refused = await fetch(`${base}/v1/operator/billing.csv?month=${month}`, { headers: { authorization: `Bearer ${token}` } });
    check(refused.status === 403, `a nurse's CSV: ${refused.status}`);

    check(problems.length === 0, `errors in the page: ${problems.join('; ')}`);
    console.log(`billing e2e: ok (${table.rows.length} rows in ${month}, CSV checked against the JSON)`);
  } catch (e) {
    h.saveServerLog(world, 'console-billing-server.log');
    throw e;
  } finally {
    await h.tearDown({ context, world, dir, profile });
  }
}

await main();
