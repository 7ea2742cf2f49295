// The console's patient page in a real browser (system Chromium driven by playwright-core)
// against a real `ilot server` whose patient was enrolled and synced by a real `ilot` device:
// a real CGM recording from ../shared/data/cgm (moved in time to end now, values untouched),
// capillary readings entered in mmol/L (one corrected), insulin, carbohydrates and a hypo
// the patient needed help for.
//
// The test opens the patient from the triage row; checks the AGP and the time in range the
// page shows against the range it computes itself from the readings it imported; finds the
// mmol/L reading as entered and the correction's history in the logbook; acknowledges an alert
// with a note using the keyboard only (then `ilot sync` on the device receives the
// acknowledgement and `ilot inbox` shows the note); enters a threshold the domain refuses (the
// rule it breaks is shown in the form, nothing is saved) and then one it accepts (the device
// gets version 2 at its next sync); sends a message (the device receives it, and after its next
// sync the page says the phone has it); runs axe-core at 1366×768 and at tablet size (no
// serious or critical violation); checks that no CSP violation or page error happened.
// Screenshots: artifacts/screenshots/console-patient*.png; numbers: artifacts/console-patient.json.
//
//   node e2e/patient.mjs        (scripts/test-console.sh builds everything first)
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { totp } from '../../../../tests/e2e/server.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const ilot = process.env.ILOT_BIN ?? join(target, 'debug/ilot');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const data = join(root, '../shared/data/cgm');
const shots = join(root, 'artifacts/screenshots');
const PASSWORD = 'console e2e password';
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function check(cond, msg) {
  if (!cond) throw new Error(`patient e2e: ${msg}`);
}

function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', ko);
  });
}

/** The longest subject of a recording: [{t (ms, clock time read as UTC), gl (as written)}]. */
function longestSubject(file) {
  const rows = new Map();
  for (const line of readFileSync(join(data, file), 'utf8').split('\n').slice(1)) {
    const [id, time, gl] = line.split(',').map((f) => f?.replace(/"/g, '').trim());
    if (!id || !time || time === 'NA' || !gl || gl === 'NA') continue;
    const t = Date.parse(`${time.replace(' ', 'T')}Z`);
    if (Number.isNaN(t)) continue;
    if (!rows.has(id)) rows.set(id, []);
    rows.get(id).push({ t, gl });
  }
  const longest = [...rows.keys()].sort().reduce((a, b) => (rows.get(b).length > rows.get(a).length ? b : a));
  const r = rows.get(longest).sort((a, b) => a.t - b.t);
  return r.filter((p, i) => i === 0 || p.t !== r[i - 1].t);
}

function endingAt(rows, end) {
  const shift = end - rows[rows.length - 1].t;
  return rows.map((r) => ({ t: r.t + shift, gl: r.gl }));
}

function csvOf(points) {
  const iso = (t) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
  return `time,gl\n${points.map((p) => `${iso(p.t)},${p.gl}`).join('\n')}\n`;
}

async function setUp(dir) {
  const db = `sqlite:${join(dir, 'server.db')}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cli = (args, env = {}) =>
    run(ilot, ['--db', db, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }).then((r) => r.stdout);
  const created = await cli(['operator', 'create-operator', '--username', 'drmartin', '--name', 'Dr Martin'], {
    ILOT_PASSWORD: PASSWORD,
  });
  const secret = /type the secret: (\S+)/.exec(created)?.[1];
  check(secret, `create-operator printed no TOTP secret:\n${created}`);
  const now = Date.now();
  const start = new Date(now - 20 * DAY).toISOString().slice(0, 10);
  const patient = JSON.parse(
    await cli(['operator', 'create-patient', '--pseudonym', 'P-CONSOLE', '--by', 'drmartin', '--public-url', base, '--start', start, '--json']),
  );
  const server = spawn(ilot, ['--db', db, 'server', '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  server.stdout.on('data', (d) => log.push(d));
  server.stderr.on('data', (d) => log.push(d));
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/openapi.json`).then((r) => r.ok, () => false)) break;
    check(i < 150 && server.exitCode === null, `ilot server did not start:\n${Buffer.concat(log)}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The device: enrol, consent, a recording twice back to back (≈ 13 days of CGM), and what
  // the patient typed: capillary readings in mmol/L (one corrected), insulin, a meal, a hypo.
  const home = join(dir, 'device');
  mkdirSync(home);
  const dev = (args) =>
    run(ilot, ['--db', join(home, 'app.db'), ...args], { env: { ...process.env, ILOT_KEYSTORE: 'file' }, maxBuffer: 1 << 24 }).then(
      (r) => r.stdout,
    );
  await dev(['enroll', patient.link]);
  await dev(['consent', 'grant']);
  const rec = longestSubject('Hall2018_processed.csv');
  const second = endingAt(rec, now - 10 * MIN);
  const first = endingAt(rec, second[0].t - 5 * MIN);
  const cgm = [...first, ...second];
  writeFileSync(join(home, 'cgm.csv'), csvOf(cgm));
  await dev(['import', 'csv', join(home, 'cgm.csv'), '--unit', 'mg/dL', '--tz', 'UTC']);
  const at = (msAgo) => new Date(now - msAgo).toISOString().slice(0, 19) + 'Z';
  await dev(['log', 'glucose', '5,4', 'mmol/L', '--context', 'before-meal', '--at', at(5 * 60 * MIN)]);
  const wrong = await dev(['log', 'glucose', '8,2', 'mmol/L', '--context', 'after-meal-2h', '--at', at(3 * 60 * MIN)]);
  const wrongId = /saved entry #(\d+)/.exec(wrong)?.[1];
  check(wrongId, `ilot log printed no entry number: ${wrong}`);
  await dev(['correct', wrongId, 'glucose', '7,9', 'mmol/L', '--context', 'after-meal-2h', '--reason', 'typo']);
  await dev(['log', 'insulin', '6', '--kind', 'bolus', '--at', at(5 * 60 * MIN)]);
  await dev(['log', 'carbs', '60', '--at', at(5 * 60 * MIN)]);
  await dev(['log', 'hypo', '--needed-help', '--treatment', 'glucagon', '--at', at(2 * 60 * MIN)]);
  await dev(['sync']);
  // Every glucose the metrics count, in mg/dL: the sensor's and the two finger pricks (as
  // corrected), 1 mmol/L = 18.016 mg/dL.
  const points = [
    ...cgm.map((p) => ({ t: p.t, v: Number(p.gl) })),
    { t: now - 5 * 60 * MIN, v: 5.4 * 18.016 },
    { t: now - 3 * 60 * MIN, v: 7.9 * 18.016 },
  ].sort((a, b) => a.t - b.t);
  return { base, secret, patient, points, server, log, dev };
}

async function axe(page, screen) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${screen}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(' ')}`).join('; ')}`);
  return r.violations.length;
}

async function main() {
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'ilot-patient-e2e-'));
  const profile = mkdtempSync(join(tmpdir(), 'ilot-patient-chromium-'));
  let world;
  let context;
  const report = {};
  try {
    world = await setUp(dir);
    const { base, secret, patient, points, dev } = world;
    const id = patient.patient_id;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1366, height: 768 },
      locale: 'fr-FR',
    });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => {
      const probe = m.location().url.endsWith('/v1/console/session') && m.text().includes('401');
      // The refused threshold is an expected 400 from the server.
      const refused = m.location().url.endsWith('/prescription') && m.text().includes('400');
      if (m.type() === 'error' && !probe && !refused) problems.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(String(e)));

    await page.goto(base);
    await page.getByLabel('Identifiant').fill('drmartin');
    await page.getByLabel('Mot de passe').fill(PASSWORD);
    await page.getByLabel("Code de l'application d'authentification").fill(totp(secret));
    await page.getByRole('button', { name: 'Se connecter' }).click();

    // From the triage row to the patient page.
    const row = page.locator(`[data-testid=triage-row][data-patient="${id}"]`);
    await row.waitFor();
    const summaryAnswer = page.waitForResponse((r) => r.url().includes(`/patients/${id}/summary`));
    const t0 = Date.now();
    await row.getByTestId('open-patient').click();
    const summary = await (await summaryAnswer).json();
    await page.getByTestId('agp-chart').locator('canvas').waitFor();
    report.open_to_agp_ms = Date.now() - t0;
    await page.screenshot({ path: join(shots, 'console-patient-screen.png') });
    check((await page.getByTestId('patient-title').innerText()) === 'P-CONSOLE', 'the page is not the patient');

    // The time in range shown is the one computed here from the imported readings.
    const from = Date.parse(summary.from);
    const to = Date.parse(summary.to);
    const cur = points.filter((p) => p.t >= from && p.t < to);
    const tir = (cur.filter((p) => p.v >= 70 && p.v <= 180).length / cur.length) * 100;
    check(summary.metrics.n_readings === cur.length, `${summary.metrics.n_readings} readings on the server, ${cur.length} imported in the window`);
    const shown = (await page.locator('[data-metric=tir] td').first().innerText()).replace(',', '.');
    check(Math.abs(parseFloat(shown) - tir) <= 0.5 + 1e-9, `TIR shown ${shown}, computed ${tir}`);
    check(summary.agp.length === 96, `${summary.agp.length} AGP bins`);
    const below70 = (cur.filter((p) => p.v < 70).length / cur.length) * 100;
    report.tir = tir;
    report.below_70 = below70;

    // Daily curves, with the treatments listed under the day.
    await page.locator('[data-testid=day] canvas').first().waitFor();
    const days = await page.locator('[data-testid=day]').count();
    check(days >= 7, `${days} days shown`);
    const dayText = await page.locator('#days').innerText();
    check(/insuline 6 U/.test(dayText) && /glucides 60 g/.test(dayText), `the day lacks the insulin or the meal:\n${dayText.slice(0, 600)}`);

    // The logbook: values as entered, the correction's history, no sensor reading.
    const logbook = page.getByTestId('logbook');
    await logbook.waitFor();
    const logText = await logbook.innerText();
    check(logText.includes('5,4 mmol/L') && logText.includes('7,9 mmol/L'), `the logbook lacks the readings as entered:\n${logText}`);
    const history = page.getByTestId('history');
    check((await history.count()) === 1, 'one corrected entry');
    await history.locator('summary').click();
    check((await history.innerText()).includes('8,2 mmol/L'), 'the earlier version is not shown');
    const kinds = await page.$$eval('[data-testid=logbook-row]', (rows) => rows.map((r) => r.dataset.kind));
    check(kinds.length === 5 && !kinds.includes(undefined), `logbook rows: ${kinds}`);

    report.axe_patient_minor = await axe(page, 'patient page');
    await page.screenshot({ path: join(shots, 'console-patient.png'), fullPage: true });

    // Acknowledge an alert with a note, keyboard only.
    const open = page.locator('[data-testid=alert][data-acknowledged=false]').first();
    await open.waitFor();
    const kind = await open.getAttribute('data-kind');
    await open.getByTestId('ack-note').focus();
    await page.keyboard.type('Appelée : resucrage fait, glucagon à renouveler');
    await page.keyboard.press('Tab');
    check(await open.getByTestId('ack').evaluate((b) => b === document.activeElement), 'Tab does not reach the acknowledge button');
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid=alert][data-kind="${kind}"][data-acknowledged=true]`).first().waitFor();
    const sync1 = await dev(['sync']);
    check(/received \d+ messages, \d+ appointments, [1-9]\d* alert acknowledgements/.test(sync1), `ilot sync after the ack:\n${sync1}`);
    const inbox1 = JSON.parse(await dev(['inbox', '--json']));
    check(inbox1.alert_acks.some((a) => a.note === 'Appelée : resucrage fait, glucagon à renouveler' && a.by.name === 'Dr Martin'), `the device's acks: ${JSON.stringify(inbox1.alert_acks)}`);

    // A threshold the domain refuses: explained in the form, nothing saved.
    await page.getByTestId('rx-edit').click();
    await page.getByTestId('rx-hypo_l2_mg_dl').fill('75');
    await page.getByTestId('rx-save').click();
    const refusal = page.getByTestId('rx-refusal');
    await refusal.waitFor();
    const why = await refusal.innerText();
    check(why.includes('Modification refusée : hypo level 2 (75 mg/dL) must be below hypo level 1 (70 mg/dL)'), `refusal: ${why}`);
    check((await page.getByTestId('rx-hypo_l2_mg_dl').getAttribute('aria-describedby')) === 'rx-refusal', 'the field does not point at the refusal');
    await page.getByTestId('rx-form').screenshot({ path: join(shots, 'console-patient-refusal.png') });
    const still = await (await page.request.get(`${base}/v1/operator/patients/${id}`)).json();
    check(still.prescription.version === 1, `a refused change was saved: version ${still.prescription.version}`);
    // One it accepts: the device gets it at its next sync.
    await page.getByTestId('rx-hypo_l2_mg_dl').fill('54');
    await page.getByTestId('rx-hyper_mg_dl').fill('260');
    await page.getByTestId('rx-save').click();
    await page.getByTestId('rx-saved').waitFor();
    check((await page.getByTestId('rx-saved').innerText()).includes('Version 2'), 'version 2 not saved');

    // A message: the device receives it; after its next sync the page says the phone has it.
    await page.getByTestId('message-text').fill('Bonjour, pensez à changer le capteur demain.');
    await page.getByTestId('send-message').click();
    const msg = page.getByTestId('message').filter({ hasText: 'pensez à changer le capteur' });
    await msg.waitFor();
    check((await msg.innerText()).includes('pas encore reçu'), 'a message just sent is said received');
    const sync2 = await dev(['sync']);
    check(sync2.includes('prescription updated to version 2'), `ilot sync after the edit:\n${sync2}`);
    const inbox2 = JSON.parse(await dev(['inbox', '--json']));
    check(inbox2.messages.some((m) => m.text === 'Bonjour, pensez à changer le capteur demain.'), `the device's messages: ${JSON.stringify(inbox2.messages)}`);
    await dev(['sync']);
    await page.reload();
    await page.getByTestId('message').filter({ hasText: 'pensez à changer le capteur' }).filter({ hasText: 'reçu par le téléphone' }).waitFor();

    // The access log (physician): this session's reads are there.
    await page.locator('[data-testid=access-log] tr[data-action=read-logbook]').first().waitFor();
    const access = await page.getByTestId('access-log').innerText();
    check(access.includes('Dr Martin') && access.includes('a lu le carnet'), `access log:\n${access.slice(0, 500)}`);

    // Server time of the page's data requests (recorded, not judged).
    const t = [];
    for (const path of ['summary', 'days', 'logbook', 'feed?kind=message']) {
      const s = performance.now();
      check((await page.request.get(`${base}/v1/operator/patients/${id}/${path}`)).ok(), path);
      t.push(performance.now() - s);
    }
    report.page_requests_ms = t.map(Math.round);

    // Tablet size.
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.reload();
    await page.getByTestId('agp-chart').locator('canvas').waitFor();
    await page.locator('[data-testid=day] canvas').first().waitFor();
    report.axe_tablet_minor = await axe(page, 'patient page (tablet)');
    await page.screenshot({ path: join(shots, 'console-patient-tablet.png') });

    const csp = problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
    check(csp.length === 0, `CSP violations: ${csp.join('; ')}`);
    check(problems.length === 0, `errors in the page: ${problems.join('; ')}`);
    writeFileSync(join(root, 'artifacts/console-patient.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`patient e2e: ok ${JSON.stringify(report)}`);
  } catch (e) {
    if (world) writeFileSync(join(root, 'artifacts/console-patient-server.log'), Buffer.concat(world.log));
    throw e;
  } finally {
    await context?.close();
    if (world?.server.exitCode === null) world.server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

await main();
