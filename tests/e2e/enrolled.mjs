// The linked patient's path through the real app window, against a real operator server
// (`ilot server` on a fresh SQLite database, see server.mjs): onboarding with the enrolment code
// typed from the care team's sheet → a low glucose typed by hand → the hypo alert and its advice →
// the simulated meter paired, then downloaded by the background task → "Synchroniser
// maintenant" → the server holds
// exactly the device's entries, and the care team sees the hypo alert → a message written by the
// physician arrives in the app at the next sync → the care team revokes the phone: the sync
// line says so, the patient types the new code right there, and everything is on the server once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { onboard, nav, pairSimulatedMeter, tid } from './patient.mjs';
import { OperatorServer } from './server.mjs';

/** Every entry the app holds, through the app's own logbook command, page by page. */
async function appEntries(s) {
  const all = [];
  let until = null;
  for (let page = 0; page < 100; page += 1) {
    const book = await s.execute(
      "return window.__TAURI_INTERNALS__.invoke('logbook', { until: arguments[0], days: 92, kind: null })",
      [until],
    );
    all.push(...book.days.flatMap((d) => d.entries));
    if (!book.earlier) return all;
    until = book.earlier;
  }
  throw new Error('the logbook still had earlier pages after 100');
}

async function syncNow(s) {
  await nav(s, 'home');
  await s.click(tid('sync-now'));
  // "Tout est envoyé" only once the server acknowledged every waiting entry.
  await s.waitFor(`${tid('sync-line')}[data-state="idle"]`, { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
}

/** The server holds every entry version of the app's logbook, each once, and nothing else. */
async function holdsExactlyTheAppEntries(s, server) {
  const held = await server.entries();
  const key = (id, version) => `${id}@${version}`;
  const onServer = held.map((e) => key(e.entry_id, e.version));
  assert.equal(new Set(onServer).size, onServer.length, 'no entry version twice on the server');
  const mine = await appEntries(s);
  const missing = mine.filter((e) => !onServer.includes(key(e.id, e.version)));
  assert.deepEqual(missing, [], 'every entry of the logbook is on the server');
  assert.equal(onServer.length, mine.length, 'the server holds exactly the entries of the device, no more');
  // …and the same readings: value, unit and time as the device recorded them.
  const byId = new Map(held.map((e) => [e.entry_id, e]));
  for (const m of mine.filter((e) => e.kind === 'glucose')) {
    const h = byId.get(m.id).entry;
    assert.deepEqual(h.kind.level, m.detail.level, `reading ${m.id}`);
    assert.equal(Date.parse(h.at), Date.parse(m.at), `time of reading ${m.id}`);
  }
  assert.ok(mine.filter((e) => e.kind === 'glucose').length > 1, 'the manual reading and the meter readings');
}

const MESSAGE = 'Bonjour, nous avons vu votre hypoglycémie de ce matin. Rappelez-nous si elle se répète. Dr Martin';

export const ENROLLED = {
  name: 'enrolled',
  // The background download asks paired devices every 3 s here (10 min in use).
  env: { ILOT_SIM: '1', ILOT_DEVICE_POLL_SECS: '3' },
  async setup(_dataDir, ctx) {
    if (!ctx.ilot) throw new Error('the enrolled scenario needs --ilot <ilot binary> for its operator server');
    ctx.server = await OperatorServer.start({ ilot: ctx.ilot, logFile: join(ctx.logs, 'enrolled-server.log') });
  },
  async teardown(ctx) {
    await ctx.server?.stop();
  },
  steps: [
    {
      name: 'onboarding-enrolment',
      async run({ session: s, server, shot }) {
        await onboard(s, {
          async enrol(s) {
            // A typo first: the form says what is wrong in words and links nothing.
            const typo = server.code.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
            await s.type(tid('enrol-code'), typo);
            await s.type(tid('enrol-server'), server.base);
            await s.click(tid('enrol-submit'));
            assert.match(await s.textOf(tid('enrol-error')), /faute de frappe|n'est pas connu du serveur/);
            await shot('enrol-typo');
            await s.type(tid('enrol-code'), server.code);
            await s.click(tid('enrol-submit'));
            assert.match(await s.textOf(tid('ob-enrolled')), /relié à votre équipe soignante \(dossier E2E-001\)/);
            await shot('enrol-linked');
            await s.click(tid('ob-next'));
          },
        });
      },
    },
    {
      name: 'home-linked',
      async run({ session: s }) {
        // With consent given and the device linked, the loop sends the profile on its own.
        await s.waitFor(tid('sync-line'), { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
        await s.waitFor(tid('sync-now'));
      },
    },
    {
      name: 'glucose-hypo-alert',
      async run({ session: s }) {
        await s.click(tid('quick-glucose'));
        await s.type(tid('glucose-input'), '0,55');
        await s.click(tid('entry-save'));
        await s.waitFor(tid('notice'), { text: 'Enregistré' });
        assert.equal(await s.textOf(tid('glucose-value')), '0,55');
        const alert = await s.waitFor(`${tid('alert')}[data-kind="hypo-l1"]`);
        const text = await s.text(alert);
        assert.match(text, /15 g de sucre/);
        assert.match(text, /recontrôlez votre glycémie dans 15 minutes/);
      },
    },
    {
      name: 'pair-then-background-download',
      async run({ session: s }) {
        await pairSimulatedMeter(s);
        // No button pressed: the shell's background task downloads from the paired meter and
        // the screen updates by itself (the patient path presses "Télécharger" instead).
        const last = await s.waitFor(tid('device-last'), { text: /nouvelles mesures/, timeoutMs: 120_000 });
        assert.ok(Number(/(\d+) nouvelles mesures/.exec(await s.text(last))?.[1]) > 0);
      },
    },
    {
      name: 'sync-now',
      async run({ session: s }) {
        await syncNow(s);
      },
    },
    {
      name: 'server-holds-the-entries',
      async run({ session: s, server }) {
        await holdsExactlyTheAppEntries(s, server);
        const alerts = await server.api('GET', `/v1/operator/patients/${server.patientId}/alerts`);
        assert.ok(
          JSON.stringify(alerts).includes('hypo'),
          `the care team sees the hypo alert (${JSON.stringify(alerts).slice(0, 300)})`,
        );
      },
    },
    {
      name: 'operator-message',
      async run({ session: s, server }) {
        server.message(MESSAGE);
        await syncNow(s);
        await s.waitFor(tid('unread-badge'));
        await nav(s, 'messages');
        const msg = await s.waitFor(`${tid('message')}`);
        assert.equal(await s.textOf(tid('message-text')), MESSAGE);
        assert.match(await s.text(msg), /Dr Martin/);
      },
    },
    {
      name: 'revoked-then-enrolled-again-in-place',
      async run({ session: s, server, shot }) {
        // The care team revokes the phone (reported lost, then found): the sync line says so.
        const devices = await server.api('GET', `/v1/operator/patients/${server.patientId}/devices`);
        assert.equal(devices.length, 1);
        await server.api('POST', `/v1/operator/devices/${devices[0].id}/revoke`);
        await nav(s, 'home');
        await s.click(tid('quick-glucose'));
        await s.type(tid('glucose-input'), '1,32');
        await s.click(tid('entry-save'));
        await s.waitFor(tid('notice'), { text: 'Enregistré' });
        await s.click(tid('sync-now'));
        await s.waitFor(`${tid('sync-line')}[data-state="refused"]`, { text: /demandez-lui un nouveau code/, timeoutMs: 30_000 });
        await shot('revoked');
        // The new code from the team, typed right on the sync line; what waited goes.
        const fresh = await server.api('POST', `/v1/operator/patients/${server.patientId}/enrolment-code`);
        await s.click(tid('reenrol-open'));
        assert.match(await s.textOf(tid('enrol-again-why')), /Rien n'est perdu/);
        await s.type(tid('enrol-code'), fresh.code);
        await s.type(tid('enrol-server'), server.base);
        await s.click(tid('enrol-submit'));
        await s.waitFor(`${tid('sync-line')}[data-state="idle"]`, { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
        await shot('enrolled-again');
        const after = await server.api('GET', `/v1/operator/patients/${server.patientId}/devices`);
        assert.equal(after.length, 2, 'the revoked device stays listed beside the new identity');
        assert.equal(after.filter((d) => d.revoked_at).length, 1);
        await holdsExactlyTheAppEntries(s, server);
      },
    },
  ],
};

/** The QR code path: the system opens the app with the sheet's ilot://enrol link as its only
 *  argument (what a desktop does for a clicked link, a phone for a scanned QR code); onboarding's
 *  enrolment step is already filled in and the patient confirms. */
export const INVITED = {
  name: 'invited',
  env: {},
  async setup(_dataDir, ctx) {
    if (!ctx.ilot) throw new Error('the invited scenario needs --ilot <ilot binary> for its operator server');
    ctx.server = await OperatorServer.start({ ilot: ctx.ilot, logFile: join(ctx.logs, 'invited-server.log') });
  },
  args: (ctx) => [ctx.server.patient.link],
  async teardown(ctx) {
    await ctx.server?.stop();
  },
  steps: [
    {
      name: 'onboarding-with-the-invite-link',
      async run({ session: s, server, shot }) {
        await onboard(s, {
          async enrol(s) {
            await s.waitFor(tid('enrol-link-seen'));
            const filled = await s.execute("return document.querySelector('[data-testid=\"enrol-code\"]').value");
            assert.equal(filled, server.patient.link);
            await shot('invite-filled');
            await s.click(tid('enrol-submit'));
            assert.match(await s.textOf(tid('ob-enrolled')), /dossier E2E-001/);
            await s.click(tid('ob-next'));
          },
        });
        await s.waitFor(tid('sync-line'), { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
        // The care team sees the device linked and the consent given.
        const { patient } = await server.api('GET', `/v1/operator/patients/${server.patientId}`);
        assert.ok(patient.enrolled_at, 'enrolled on the server');
        assert.equal(patient.consent_granted, true);
      },
    },
  ],
};
