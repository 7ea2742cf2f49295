// The console's identity panel (INS) in a real browser (system Chromium driven by
// playwright-core) against a real `ilot server` answering INSi from the ANS's published test
// identities (`--insi-test-identities`).
//
// The physician opens the patient page (the panel says no identity yet), types the ANS test
// identity PAT-TROIS Dominique with a matricule whose key is wrong: the domain's message (which
// key was expected) is shown in the form, the field points at it, nothing is saved. Then asks
// INSi, takes its identity exactly as it comes, saves (provisoire), records a checked identity
// card (validée) and the INSi verification (qualifiée), and sees the three versions in the
// history; the server's FHIR export then carries the INS with its test OID. axe-core on the
// form with its refusal and on the qualified panel. A nurse logged in after sees no panel and the
// server refuses her the identity (403). No CSP violation, no page error.
// Screenshots: artifacts/screenshots/console-identity*.png.
//
//   node e2e/identity.mjs        (scripts/test-console.sh builds everything first)
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { join } from 'node:path';
import * as h from './harness.mjs';
import { shots } from './harness.mjs';

const check = h.checker('identity e2e');
const axe = (page, screen) => h.axe(page, screen, check);

async function setUp(dir) {
  const sdb = await h.serverDb(dir);
  const { base, cli } = sdb;
  const secret = await h.createPhysician(cli, check);
  const nurseOut = await h.createOperator(cli, ['--username', 'ide', '--name', 'IDE Durand', '--role', 'nurse']);
  const nurseSecret = h.secretOf(nurseOut);
  check(nurseSecret, `create-operator printed no TOTP secret for the nurse:\n${nurseOut}`);
  const patient = JSON.parse(
    await cli(['operator', 'create-patient', '--pseudonym', 'P-INS', '--by', 'drmartin', '--public-url', base, '--json']),
  );
  const { server, log } = await h.startServer(sdb, check, ['--insi-test-identities']);
  return { base, secret, nurseSecret, patient, server, log };
}

async function main() {
  const { dir, profile } = h.folders('identity');
  let world;
  let context;
  try {
    world = await setUp(dir);
    const { base, secret, nurseSecret, patient } = world;
    const id = patient.patient_id;
    context = await h.launchBrowser(profile);
    const page = await context.newPage();
    // The wrong key is an expected 400 from the server.
    const problems = h.watchProblems(page, (m) => m.location().url.endsWith('/identity') && m.text().includes('400'));
    const identityOnServer = async () => (await page.request.get(`${base}/v1/operator/patients/${id}/identity`)).json();

    await h.logIn(page, base, secret);
    await page.locator(`[data-testid=triage-row][data-patient="${id}"]`).getByTestId('open-patient').click();
    await page.getByTestId('identity-none').waitFor();

    // A wrong key: the domain's message in the form, nothing saved.
    await page.getByTestId('identity-edit').click();
    await page.getByTestId('identity-birth_name').fill('PAT-TROIS');
    await page.getByTestId('identity-first_names').fill('DOMINIQUE MARIE-LOUISE');
    await page.getByTestId('identity-birth_date').fill('1979-03-28');
    await page.getByTestId('identity-sex').selectOption('F');
    await page.getByTestId('identity-birth_place').fill('63220');
    await page.getByTestId('identity-matricule-input').fill('2 79 03 51 215 189 98');
    await page.getByTestId('identity-oid').selectOption('1.2.250.1.213.1.4.10');
    await page.getByTestId('identity-save').click();
    const refusal = page.getByTestId('identity-refusal');
    await refusal.waitFor();
    const why = await refusal.innerText();
    check(why.includes('Refusé : the INS key 98 does not match the matricule (expected 89)'), `refusal: ${why}`);
    check((await page.getByTestId('identity-matricule-input').getAttribute('aria-describedby')) === 'identity-refusal', 'the matricule does not point at the refusal');
    check((await identityOnServer()).identity === null, 'a refused identity was saved');
    await axe(page, 'identity form with its refusal');
    await page.getByTestId('identity-form').screenshot({ path: join(shots, 'console-identity-refusal.png') });

    // INSi: one identity, taken exactly as it comes; saved as provisoire.
    await page.getByTestId('identity-insi').click();
    const answer = page.getByTestId('insi-answer');
    await answer.waitFor();
    check((await answer.getAttribute('data-result')) === 'found', `INSi answered ${await answer.innerText()}`);
    await page.getByTestId('insi-take').click();
    check((await page.getByTestId('identity-matricule-input').inputValue()) === '279035121518989', 'INSi matricule not taken');
    await page.getByTestId('identity-save').click();
    const status = page.getByTestId('identity-status');
    await page.locator('[data-testid=identity-status][data-status=provisoire]').waitFor();
    check((await status.innerText()) === 'Identité provisoire', `status: ${await status.innerText()}`);
    check((await page.getByTestId('identity-matricule').innerText()) === '2 79 03 51 215 189 89', 'the matricule is not shown grouped');

    // Proofs: an identity card (validée), then INSi's verification (qualifiée).
    await page.getByTestId('identity-document').selectOption('identity-card');
    await page.getByTestId('identity-document-checked').click();
    await page.locator('[data-testid=identity-status][data-status=validee]').waitFor();
    await page.getByTestId('identity-insi-retrieved').click();
    await page.locator('[data-testid=identity-status][data-status=qualifiee]').waitFor();
    check((await page.locator('#identity').innerText()).includes("Les exports portent l'INS"), 'the panel does not say exports carry the INS');

    // The history: three versions, newest first.
    await page.getByTestId('identity-history-details').locator('summary').click();
    await page.locator('[data-testid=identity-history] tr[data-change="proof:insi-retrieved"]').waitFor();
    const changes = await page.$$eval('[data-testid=identity-history] tbody tr', (rows) => rows.map((r) => r.dataset.change));
    check(JSON.stringify(changes) === JSON.stringify(['proof:insi-retrieved', 'proof:document-checked:identity-card', 'created']), `history: ${changes}`);
    check((await page.getByTestId('identity-history').innerText()).includes('Dr Martin'), 'the history does not say who');
    await axe(page, 'identity panel (qualifiée)');
    await page.locator('#identity').screenshot({ path: join(shots, 'console-identity.png') });

    // The FHIR export now carries the INS.
    const bundle = await (await page.request.get(`${base}/v1/operator/patients/${id}/fhir`)).json();
    const ids = bundle.entry[0].resource.identifier;
    check(ids.some((i) => i.system === 'urn:oid:1.2.250.1.213.1.4.10' && i.value === '279035121518989'), `FHIR Patient identifiers: ${JSON.stringify(ids)}`);

    h.checkNoProblems(problems, check);

    // A nurse: no panel, and the server refuses her the identity.
    await page.getByTestId('logout').click();
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    await h.fillLogin(page, nurseSecret, 'ide');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    // The address still names the patient page: it opens again, for her.
    await page.goto(`${base}/#/patients/${id}`);
    await page.getByTestId('patient-title').waitFor();
    await page.locator('#devices').waitFor();
    check((await page.locator('#identity').count()) === 0, 'a nurse sees the identity panel');
    const refused = await page.request.get(`${base}/v1/operator/patients/${id}/identity`);
    check(refused.status() === 403, `a nurse read the identity: ${refused.status()}`);
    console.log('identity e2e: ok (wrong key refused in place, INSi taken, provisoire → validée → qualifiée, history, FHIR INS, nurse refused)');
  } catch (e) {
    h.saveServerLog(world, 'console-identity-server.log');
    throw e;
  } finally {
    await h.tearDown({ context, world, dir, profile });
  }
}

await main();
