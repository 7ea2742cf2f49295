// The patient's path through the real app window, step by step (the scenario runs with
// ILOT_SIM=1, which offers ilot-ble's simulated meter). This path is not linked to a care team
// (enrolment "later"): everything stays on the device and says so. The linked path — enrolment
// against a real server, sync, the server's copy, an operator message — is enrolled.mjs.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';

export const PIN = '2580';

export const tid = (id) => `[data-testid="${id}"]`;

/** Onboarding; `enrol(s)` fills the enrolment step (default: "later"); `each(label)` runs on
 *  every page of it (the phone path checks each one). */
export async function onboard(s, { consent = true, enrol, each = async () => {} } = {}) {
  await s.waitFor(tid('onboarding'));
  await each('ob-language');
  await s.click(tid('ob-next')); // language: French is preselected
  const emergency = await s.textOf(tid('ob-emergency'));
  assert.match(emergency, /pas un service d'urgence/);
  assert.match(emergency, /appelez le 15/);
  await each('ob-emergency');
  await s.click(tid('ob-next'));
  await s.waitFor(tid(consent ? 'ob-consent-yes' : 'ob-consent-no'));
  await each('ob-consent');
  await s.click(tid(consent ? 'ob-consent-yes' : 'ob-consent-no'));
  await s.waitFor(tid('enrol-form'));
  await each('ob-enrol');
  if (enrol) await enrol(s);
  else await s.click(tid('ob-enrol-skip'));
  await s.waitFor(tid('ob-pin'));
  await each('ob-pin');
  await s.type(tid('ob-pin'), PIN);
  await s.type(tid('ob-pin2'), PIN);
  await s.click(tid('ob-next'));
  await s.waitFor(tid('ob-finish'));
  await each('ob-finish');
  await s.click(tid('ob-finish'));
  await s.waitFor(tid('glucose-now'));
}

/** Goes to a screen: a button of the top bar, or of the phone's tab bar — opening "Plus" first
 *  for the screens it holds. */
export async function nav(s, name) {
  const shown = await s.findAll(tid(`nav-${name}`)).catch(() => []);
  if (shown.length === 0 && (await s.findAll(tid('nav-more')).catch(() => [])).length > 0) await s.click(tid('nav-more'));
  // The "Plus" menu scrolls when it does not fit (200 % text on a 360×640 phone): bring the
  // item into view as a finger would.
  await s.execute("document.querySelector(arguments[0])?.scrollIntoView({ block: 'nearest' })", [tid(`nav-${name}`)]);
  await s.click(tid(`nav-${name}`));
}

/** Devices: search, pair the simulated meter (the same identity read as a real one), then its
 *  card says it was never downloaded. */
export async function pairSimulatedMeter(s) {
  await nav(s, 'devices');
  await s.click(tid('devices-scan'));
  await s.click(`${tid('found-device')}[data-address="sim:meter"] ${tid('device-pair')}`, { timeoutMs: 45_000 });
  const dev = await s.waitFor(`${tid('device')}[data-address="sim:meter"]`);
  assert.match(await s.text(dev), /Jamais téléchargé/);
}

export const PATIENT_STEPS = [
  {
    name: 'onboarding',
    async run({ session: s }) {
      await s.waitFor(tid('onboarding'), { text: 'Bienvenue sur Ilot' });
      await onboard(s);
    },
  },
  {
    name: 'home-empty',
    async run({ session: s }) {
      assert.match(await s.textOf(tid('glucose-now')), /Pas encore de glycémie/);
      assert.match(await s.textOf(tid('emergency-line')), /appelez le 15/);
      // The profile recorded at onboarding waits to be sent; nothing says "error".
      const sync = await s.textOf(tid('sync-line'));
      assert.match(sync, /1 donnée en attente d'envoi — l'envoi commencera quand l'appareil sera relié à votre équipe/);
    },
  },
  {
    name: 'glucose-form-validation',
    async run({ session: s }) {
      await s.click(tid('quick-glucose'));
      await s.type(tid('glucose-input'), '55');
      await s.click(tid('entry-save'));
      const err = await s.textOf(tid('field-error'));
      assert.match(err, /0,10 à 6,00 g\/L/);
    },
  },
  {
    name: 'glucose-entry',
    async run({ session: s }) {
      await s.type(tid('glucose-input'), '0,55');
      await s.click(tid('entry-save'));
      await s.waitFor(tid('notice'), { text: 'Enregistré' });
      assert.equal(await s.textOf(tid('glucose-value')), '0,55');
      assert.equal(await s.textOf(tid('glucose-unit')), 'g/L');
      assert.match(await s.textOf(tid('glucose-zone')), /bas/);
      assert.match(await s.textOf(tid('glucose-age')), /instant|il y a/);
      assert.match(await s.textOf(tid('sync-line')), /2 données en attente d'envoi/);
    },
  },
  {
    name: 'hypo-alert',
    async run({ session: s }) {
      const alert = await s.waitFor(`${tid('alert')}[data-kind="hypo-l1"]`);
      const text = await s.text(alert);
      assert.match(text, /Glycémie basse/);
      assert.match(text, /15 g de sucre/);
      assert.match(text, /recontrôlez votre glycémie dans 15 minutes/);
    },
  },
  {
    name: 'logbook',
    async run({ session: s }) {
      await nav(s, 'logbook');
      const entry = await s.waitFor(`${tid('logbook-entry')}[data-kind="glucose"]`);
      assert.match(await s.text(entry), /0,55 g\/L/);
    },
  },
  {
    name: 'charts',
    async run({ session: s }) {
      await nav(s, 'charts');
      await s.waitFor(tid('agp-view'));
      assert.match(await s.textOf(tid('metrics')), /Données insuffisantes/);
      await s.waitFor(`${tid('agp-chart')} canvas`);
      await s.click(tid('tab-day'));
      await s.waitFor(`${tid('chart-day')} canvas`);
    },
  },
  {
    // Courbes → Rapport PDF. The native save dialog is not reachable over WebDriver, so the step
    // calls the command the button calls, in the real app on its real store (the button and
    // the dialog's options: ui/src/screens/charts.test.ts), then reads the file it wrote.
    name: 'charts-report-pdf',
    async run({ session: s, dataDir }) {
      await s.waitFor(tid('report-pdf'), { text: 'Rapport PDF' });
      const pdf = join(dataDir, 'rapport-agp.pdf');
      const saved = await s.execute(
        'return window.__TAURI_INTERNALS__.invoke("report_pdf", { days: 14, lang: "fr", path: arguments[0] })',
        [pdf],
      );
      assert.equal(saved, pdf);
      const bytes = readFileSync(pdf);
      assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
      assert.ok(bytes.length > 10_000, `a PDF with its fonts (${bytes.length} bytes)`);
    },
  },
  {
    name: 'observance',
    async run({ session: s }) {
      await nav(s, 'observance');
      await s.waitFor('main', { text: 'prescription de votre équipe' });
    },
  },
  {
    name: 'education-nurse-session',
    async run({ session: s }) {
      await nav(s, 'education');
      await s.click(tid('nurse-mode'));
      await s.waitFor(tid('nurse-form'));
      const boxes = await s.findAll(`${tid('nurse-form')} input[type="checkbox"]`);
      await s.clickEl(boxes[0]);
      await s.clickEl(boxes[2]);
      await s.waitFor(tid('nurse-form'), { text: '2 thème(s) sur 7' });
      await s.click(`${tid('nurse-form')} button[type="submit"]`);
      await s.waitFor(tid('notice'), { text: 'Séance enregistrée' });
    },
  },
  {
    name: 'messages-appointments',
    async run({ session: s }) {
      await nav(s, 'messages');
      await s.waitFor(tid('messages-empty'));
      await nav(s, 'appointments');
      await s.waitFor(tid('appointments-empty'));
    },
  },
  {
    name: 'devices-simulated-meter',
    async run({ session: s }) {
      await pairSimulatedMeter(s);
      await s.click(`${tid('device')}[data-address="sim:meter"] ${tid('device-download')}`);
      const last = await s.waitFor(tid('device-last'), { text: /nouvelles mesures/, timeoutMs: 120_000 });
      const n = Number(/(\d+) nouvelles mesures/.exec(await s.text(last))?.[1]);
      assert.ok(n > 0, 'the simulated meter gave new readings');
      // The progress events reached the screen: the last one counted every stored entry
      // (readings and their meal context) out of what the meter announced.
      const progress = await s.execute(
        'return document.querySelector(\'[data-address="sim:meter"]\').dataset.progress',
      );
      const [stored, total] = String(progress).split('/').map(Number);
      assert.ok(stored >= n && total === n, `progress ${progress} for ${n} new readings`);
      await nav(s, 'logbook');
      await s.waitFor(tid('logbook-entry'), { text: /lecteur/ });
    },
  },
  {
    name: 'settings-english',
    async run({ session: s }) {
      await nav(s, 'settings');
      await s.click(tid('language-en'));
      await s.waitFor(tid('nav-home'), { text: 'Home' });
      await nav(s, 'home');
      assert.match(await s.textOf(tid('glucose-zone')), /low/);
      assert.match(await s.textOf(tid('alert-advice')), /15 g of fast sugar/);
      assert.equal(await s.textOf(tid('glucose-value')), '0.55');
    },
  },
  {
    name: 'settings-french-again',
    async run({ session: s }) {
      await nav(s, 'settings');
      await s.click(tid('language-fr'));
      await s.waitFor(tid('nav-home'), { text: 'Accueil' });
    },
  },
  {
    name: 'text-200-percent',
    async run({ session: s }) {
      await nav(s, 'settings');
      await s.waitFor('#text-scale');
      await s.execute(
        "const r = document.querySelector('#text-scale'); r.value = '200';" +
          "r.dispatchEvent(new Event('input', { bubbles: true })); r.dispatchEvent(new Event('change', { bubbles: true }));",
      );
      await s.waitFor('label[for="text-scale"]', { text: '200 %' });
      await nav(s, 'home');
      await s.waitFor(tid('glucose-value'));
      const layout = await s.execute(
        'return { font: getComputedStyle(document.documentElement).fontSize, overflow: document.documentElement.scrollWidth - window.innerWidth }',
      );
      assert.equal(layout.font, '32px');
      assert.ok(layout.overflow <= 0, `no horizontal scrolling at 200 % (${layout.overflow} px too wide)`);
    },
  },
  {
    name: 'restart-locked',
    async run(ctx) {
      await ctx.restart();
      const s = ctx.session;
      await s.waitFor(tid('lock'));
      await s.type(tid('lock-pin'), '1111');
      await s.click(`${tid('lock')} button[type="submit"]`);
      await s.waitFor(tid('lock'), { text: 'Code incorrect' });
      await s.type(tid('lock-pin'), PIN);
      await s.click(`${tid('lock')} button[type="submit"]`);
      assert.equal(await s.textOf(tid('glucose-value')), '0,55');
      assert.equal(await s.execute('return getComputedStyle(document.documentElement).fontSize'), '32px');
      // The session saved above is in the logbook too, and the language choice was kept.
      await nav(s, 'logbook');
      await s.waitFor(`${tid('logbook-entry')}[data-kind="education"]`);
      await sleep(100);
    },
  },
  {
    // Ajouter → Importer un fichier: the real LibreView sample (shared/data/exports), typed as a
    // path (the native picker and drag-and-drop cannot be driven through WebDriver); the preview
    // says what the file holds before anything is written, then the import stores what is new.
    name: 'import-file-with-preview',
    async run({ session: s }) {
      const file = fileURLToPath(new URL('../../../shared/data/exports/libreview-en-mmol-daymonth.csv', import.meta.url));
      await nav(s, 'home');
      const pending = await s.textOf(tid('sync-line'));
      await s.click(tid('quick-other'));
      await s.click(tid('add-import'));
      await s.type(tid('import-path'), file);
      await s.click(tid('import-show'));
      await s.waitFor(tid('import-preview'));
      assert.match(await s.textOf(tid('import-format')), /LibreView/);
      assert.match(await s.textOf(tid('import-counts')), /260 glycémies \(dont 60 scans\), 0 doses d'insuline, 0 repas, 7 notes/);
      assert.match(await s.textOf(tid('import-new')), /266 nouvelles entrées, 1 déjà présente/);
      await nav(s, 'home');
      assert.equal(await s.textOf(tid('sync-line')), pending, 'the preview wrote nothing');
      await s.click(tid('quick-other'));
      await s.click(tid('add-import'));
      await s.type(tid('import-path'), file);
      await s.click(tid('import-show'));
      await s.click(tid('import-commit'));
      await s.waitFor(tid('notice'), { text: '266 entrées importées' });
      assert.notEqual(await s.textOf(tid('sync-line')), pending, 'the imported entries wait to be sent');
      // Again: nothing new, the import button is off.
      await s.click(tid('quick-other'));
      await s.click(tid('add-import'));
      await s.type(tid('import-path'), file);
      await s.click(tid('import-show'));
      await s.waitFor(tid('import-new'), { text: 'Rien de nouveau, 267 déjà présentes' });
    },
  },
];

