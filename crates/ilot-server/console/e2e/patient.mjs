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

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from './harness.mjs';
import { root, shots } from './harness.mjs';
import { csvOf, endingAt, recordings } from './recordings.mjs';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

const check = h.checker('patient e2e');

/** The longest subject of a recording: [{t (ms, clock time read as UTC), gl (as written)}]. */
function longestSubject(file) {
  const by = recordings(file);
  return by.get([...by.keys()].sort().reduce((a, b) => (by.get(b).length > by.get(a).length ? b : a)));
}

async function setUp(dir) {
  const sdb = await h.serverDb(dir);
  const { base, cli } = sdb;
  const secret = await h.createPhysician(cli, check);
  const now = Date.now();
  const start = new Date(now - 20 * DAY).toISOString().slice(0, 10);
  const patient = JSON.parse(
    await cli(['operator', 'create-patient', '--pseudonym', 'P-CONSOLE', '--by', 'drmartin', '--public-url', base, '--start', start, '--json']),
  );
  const { server, log } = await h.startServer(sdb, check);

  // The device: enrol, consent, a recording twice back to back (≈ 13 days of CGM), and what
  // the patient typed: capillary readings in mmol/L (one corrected), insulin, a meal, a hypo.
  const home = join(dir, 'device');
  const dev = h.device(home);
  await dev(['enroll', patient.link]);
  await dev(['consent', 'grant']);
  const rec = longestSubject('Hall2018_processed.csv');
  const second = endingAt(rec, now - 10 * MIN);
  const first = endingAt(rec, second[0].t - 5 * MIN);
  const cgm = [...first, ...second];
  await h.importCgm(dev, home, csvOf(cgm));
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

const axe = (page, screen) => h.axe(page, screen, check);

async function main() {
  const { dir, profile } = h.folders('patient');
  let world;
  let context;
  const report = {};
  try {
    world = await setUp(dir);
    const { base, secret, patient, points, dev } = world;
    const id = patient.patient_id;
    context = await h.launchBrowser(profile, { acceptDownloads: true });
    const page = await context.newPage();
    // The refused threshold is an expected 400 from the server.
    const problems = h.watchProblems(page, (m) => m.location().url.endsWith('/prescription') && m.text().includes('400'));

    await h.logIn(page, base, secret);

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

    // The one-page AGP report, downloaded from the page by keyboard: a one-page PDF from the server.
    await page.getByTestId('report-pdf').focus();
    const downloadingPdf = page.waitForEvent('download');
    await page.keyboard.press('Enter');
    const pdf = readFileSync(await (await downloadingPdf).path());
    check(pdf.subarray(0, 5).toString('latin1') === '%PDF-', 'the report link did not give a PDF');
    writeFileSync(join(root, 'artifacts/console-patient-report.pdf'), pdf);

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
    // An appointment: a length the rules refuse is explained in place; a sensible one is listed
    // and reaches the device with the message.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
    await page.getByTestId('appointment-kind').selectOption('education');
    await page.getByTestId('appointment-date').fill(day);
    await page.getByTestId('appointment-time').fill('10:30');
    await page.getByTestId('appointment-minutes').fill('3');
    await page.getByTestId('appointment-topic').fill('Adapter ses doses');
    await page.getByTestId('appointment-save').click();
    check((await page.getByTestId('appointment-error').innerText()).includes('de 5 à 480 minutes'), 'a 3-minute appointment is not explained');
    await page.getByTestId('appointment-minutes').fill('45');
    await page.getByTestId('appointment-save').click();
    await page.getByTestId('appointment').filter({ hasText: 'Adapter ses doses' }).waitFor();
    check((await page.getByTestId('appointment-error').count()) === 0, 'an error stays after a saved appointment');
    report.axe_appointment_minor = await axe(page, 'patient page (appointment set)');
    const sync2 = await dev(['sync']);
    check(sync2.includes('prescription updated to version 2'), `ilot sync after the edit:\n${sync2}`);
    const inbox2 = JSON.parse(await dev(['inbox', '--json']));
    check(inbox2.messages.some((m) => m.text === 'Bonjour, pensez à changer le capteur demain.'), `the device's messages: ${JSON.stringify(inbox2.messages)}`);
    check(inbox2.appointments.some((a) => a.topic === 'Adapter ses doses' && a.duration_min === 45 && !a.cancelled), `the device's appointments: ${JSON.stringify(inbox2.appointments)}`);
    await dev(['sync']);
    await page.reload();
    await page.getByTestId('message').filter({ hasText: 'pensez à changer le capteur' }).filter({ hasText: 'reçu par le téléphone' }).waitFor();

    // The access log (physician): this session's reads are there.
    await page.locator('[data-testid=access-log] tr[data-action=read-logbook]').first().waitFor();
    const access = await page.getByTestId('access-log').innerText();
    check(access.includes('Dr Martin') && access.includes('a lu le carnet'), `access log:\n${access.slice(0, 500)}`);

    // Consent (issue #14): the panel shows the consent the device gave; the physician records a
    // withdrawal the patient expressed in consultation; the panel shows it and the device's next
    // reading is refused by the server (it stays on the device).
    const consentHistory = page.getByTestId('consent-history');
    await consentHistory.waitFor();
    check(
      (await consentHistory.innerText()).includes("par le patient dans l'application"),
      `consent history:\n${await consentHistory.innerText()}`,
    );
    await page.getByTestId('consent-decision').selectOption('withdrawn');
    await page.getByTestId('consent-save').click();
    await page.locator('[data-testid=consent-current][data-decision=withdrawn]').waitFor();
    await page.screenshot({ path: join(shots, 'console-patient-consent.png') });
    await dev(['log', 'glucose', '6,1', 'mmol/L']);
    const refused = await dev(['sync']).then(
      (out) => `sync succeeded:\n${out}`,
      (e) => String(e.stderr ?? e.message ?? e),
    );
    check(/consent/i.test(refused) && !refused.startsWith('sync succeeded'), `ilot sync after the withdrawal:\n${refused}`);

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

    h.checkNoProblems(problems, check);
    writeFileSync(join(root, 'artifacts/console-patient.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`patient e2e: ok ${JSON.stringify(report)}`);
  } catch (e) {
    h.saveServerLog(world, 'console-patient-server.log');
    throw e;
  } finally {
    await h.tearDown({ context, world, dir, profile });
  }
}

await main();
