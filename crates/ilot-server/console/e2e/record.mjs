// The record's life on the console's patient page, in a real browser (system Chromium driven by
// playwright-core) against a real `ilot server`: a physician ends a patient's telesurveillance
// (last day, reason) and the triage then shows the patient only under "Clôturés", with the day;
// the physician records the patient's erasure request as a restriction and the page says the
// record is restricted (the server answers 451: the triage, closed or not, leaves it out; an
// exceptional read with a reason gets the data and is in the audit log); the restriction is
// lifted from the notice, the page reads as before and its access log names the exceptional
// read; the telesurveillance, ended by mistake, is reopened with a reason, the page lists the
// interruption (an end undone on its own last day: no day interrupted; who ended and reopened
// it and why) and the patient is back in the triage. axe-core on the page; no CSP violation.
// Screenshots: artifacts/screenshots/console-record*.png.
//
//   node e2e/record.mjs        (scripts/test-console.sh builds everything first)
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { join } from 'node:path';
import * as h from './harness.mjs';
import { shots } from './harness.mjs';

const check = h.checker('record e2e');

/** Today in Paris (the patients' zone), as YYYY-MM-DD. */
function parisToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
}

/** A YYYY-MM-DD day as the console writes it in a history ("4 décembre 2026"). */
function inWords(iso) {
  return new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${iso}T12:00:00Z`));
}

async function setUp(dir) {
  const sdb = await h.serverDb(dir);
  const { base, cli } = sdb;
  const secret = await h.createPhysician(cli, check);
  const start = new Date(Date.now() - 10 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const made = {};
  for (const name of ['P-SUIVI', 'P-FIN']) {
    made[name] = JSON.parse(
      await cli(['operator', 'create-patient', '--pseudonym', name, '--by', 'drmartin', '--public-url', base, '--start', start, '--json']),
    ).patient_id;
  }
  const { server, log } = await h.startServer(sdb, check);
  return { base, secret, made, server, log };
}

/** The pseudonyms of the triage's rows, once the list has loaded. */
async function rows(page) {
  await page.waitForLoadState('networkidle');
  return page.locator('[data-testid=triage-row] th a').allInnerTexts();
}

async function main() {
  const { dir, profile } = h.folders('record');
  let world;
  let context;
  try {
    world = await setUp(dir);
    const { base, made } = world;
    context = await h.launchBrowser(profile);
    const page = await context.newPage();
    // The restricted page's own 451 is expected; anything else is a problem.
    const problems = h.watchProblems(page, (m) => m.text().includes('451'));
    await h.logIn(page, base, world.secret);
    await page.locator('[data-testid=triage-row]').nth(1).waitFor();
    check(JSON.stringify((await rows(page)).sort()) === '["P-FIN","P-SUIVI"]', `triage: ${await rows(page)}`);

    // End P-FIN's telesurveillance today (not before its inclusion, today), with a reason; never
    // interrupted before.
    await page.locator(`[data-testid=triage-row][data-patient="${made['P-FIN']}"] [data-testid=open-patient]`).click();
    await page.getByTestId('close-form').waitFor();
    check((await page.getByTestId('interruptions').count()) === 0, 'interruptions listed before any');
    const lastDay = parisToday();
    await page.getByTestId('close-day').fill(lastDay);
    await page.getByTestId('close-reason').fill('fin de la prise en charge');
    await page.getByTestId('close-submit').click();
    await page.getByTestId('record-closed').waitFor();
    const said = await page.getByTestId('record-closed').innerText();
    check(said.includes(lastDay) && said.includes('fin de la prise en charge'), `the closure says: ${said}`);
    check((await page.getByTestId('closed-badge').innerText()).includes(lastDay), 'no closed badge');
    check((await page.getByTestId('close-form').count()) === 0, 'the close form is still offered');
    await h.axe(page, 'patient page, closed', check);
    await page.screenshot({ path: join(shots, 'console-record-closed.png'), fullPage: true });

    // The triage: P-FIN only under "Clôturés", with its day.
    await page.getByTestId('back').click();
    await page.locator('[data-testid=triage-row]').first().waitFor();
    check(JSON.stringify(await rows(page)) === '["P-SUIVI"]', `triage after the closure: ${await rows(page)}`);
    await page.getByTestId('filter-closed').check();
    await page.locator(`[data-testid=triage-row][data-patient="${made['P-FIN']}"]`).waitFor();
    check(JSON.stringify(await rows(page)) === '["P-FIN"]', `closed triage: ${await rows(page)}`);
    check((await page.getByTestId('closed-on').innerText()).startsWith('clôturé le'), 'no closed-on label');

    // The erasure request: a restriction. The page then says the record is restricted.
    await page.locator('[data-testid=open-patient]').click();
    await page.getByTestId('restrict-form').waitFor();
    await page.getByTestId('restrict-reason').fill("demande d'effacement du patient");
    await page.getByTestId('restrict-submit').click();
    await page.getByTestId('restricted').waitFor();
    check((await page.locator('#patient-title').count()) === 0, 'the restricted page still shows the patient');
    check(!(await page.locator('article.patient').innerText()).includes('Chargement'), 'the restricted page says it is loading');
    await h.axe(page, 'restricted notice', check);
    await page.screenshot({ path: join(shots, 'console-record-restricted.png'), fullPage: true });

    // The same session through the API: 451, then an exceptional read with its reason, audited.
    const api = (path) =>
      page.evaluate(async (p) => {
        const r = await fetch(p, { credentials: 'same-origin' });
        return { status: r.status, body: await r.json() };
      }, path);
    const p = `/v1/operator/patients/${made['P-FIN']}`;
    const plain = await api(p);
    check(plain.status === 451 && plain.body.error === 'restricted', `ordinary read: ${JSON.stringify(plain)}`);
    const reason = 'appel du centre 15';
    const read = await api(`${p}?exceptional_reason=${encodeURIComponent(reason)}`);
    check(read.status === 200 && read.body.patient.pseudonym === 'P-FIN', `exceptional read: ${read.status}`);
    const audit = await api(`${p}/audit?exceptional_reason=${encodeURIComponent(reason)}`);
    const logged = audit.body.items.find((i) => i.action === 'exceptional-read');
    check(logged?.detail?.reason === reason, `the exceptional read is not in the access log: ${JSON.stringify(audit.body.items.slice(0, 3))}`);
    const closedList = await api('/v1/operator/triage?closed=true');
    check(closedList.body.items.length === 0, 'the restricted record is still in the closed triage');

    // Lifted from the notice: the page reads as before.
    await page.getByTestId('lift-reason').fill('le patient retire sa demande');
    await page.getByTestId('lift-submit').click();
    await page.getByTestId('record-closed').waitFor();
    check((await page.getByTestId('restricted').count()) === 0, 'the notice stayed after lifting');
    // The access log says who read the restricted record, in words.
    const exceptional = page.locator('[data-testid=access-log] tr[data-action=exceptional-read]').first();
    await exceptional.waitFor();
    check((await exceptional.innerText()).includes('accès exceptionnel'), `access log: ${await exceptional.innerText()}`);

    // Ended by mistake: the physician reopens it with a reason; the page says it is in progress
    // again, the triage shows the patient again, and the access log words the reopening.
    await page.getByTestId('reopen-form').waitFor();
    await page.getByTestId('reopen-reason').fill('clôturée par erreur');
    await page.getByTestId('reopen-submit').click();
    await page.getByTestId('close-form').waitFor();
    check((await page.getByTestId('record-closed').count()) === 0, 'the closure is still shown after reopening');
    check((await page.getByTestId('closed-badge').count()) === 0, 'the closed badge stayed after reopening');
    // The interruption is listed: reopened before its last day ended, no day went unmonitored;
    // who ended and reopened it, and why.
    const history = page.getByRole('list', { name: 'Interruptions de la télésurveillance' });
    await history.waitFor();
    const items = await history.locator('li').allInnerTexts();
    const want = `Fin au ${inWords(lastDay)} annulée avant la fin de ce jour, aucun jour interrompu — arrêtée par Dr Martin, médecin (fin de la prise en charge), rouverte par Dr Martin, médecin (clôturée par erreur)`;
    check(items.length === 1 && items[0].includes(want), `interruptions: ${JSON.stringify(items)}; want ${want}`);
    // The access log loads with the page: open it again to read the newest acts.
    await page.reload();
    await page.getByTestId('close-form').waitFor();
    check((await page.getByTestId('interruptions').innerText()).includes('clôturée par erreur'), 'the interruption is gone after a reload');
    const reopened = page.locator('[data-testid=access-log] tr[data-action=reopen-monitoring]').first();
    await reopened.waitFor();
    check((await reopened.innerText()).includes('a rouvert la télésurveillance'), `access log: ${await reopened.innerText()}`);
    await h.axe(page, 'patient page, reopened', check);
    await page.screenshot({ path: join(shots, 'console-record-reopened.png'), fullPage: true });
    const open = await api('/v1/operator/triage');
    check(open.body.items.some((i) => i.patient_id === made['P-FIN']), 'the reopened record is not in the triage');

    h.checkNoProblems(problems, check);
    console.log('record e2e: ok (closed, hidden from the triage, restricted, exceptional read audited, lifted, reopened, interruption listed)');
  } catch (e) {
    h.saveServerLog(world, 'console-record-server.log');
    throw e;
  } finally {
    await h.tearDown({ context, world, dir, profile });
  }
}

await main();
