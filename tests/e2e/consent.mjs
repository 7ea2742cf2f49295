// Consent and "Qui a consulté mes données" through the real app window, against a real operator
// server (server.mjs): the physician reads the patient's readings through the operator API → after
// a sync the patient sees it in plain French in "Qui a consulté mes données"; the patient withdraws
// consent in Settings (with its confirmation) → the care team's API shows the withdrawal in the
// consent history, and a reading typed afterwards never reaches the server; "Donner mon accord"
// → the server records consent given in the app and only the readings typed after it arrive;
// the physician records a withdrawal in consultation → after a sync Settings and the sync line
// say the care team recorded it, by whom.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { onboard, nav, tid } from './patient.mjs';
import { OperatorServer } from './server.mjs';

/** A sync through the app's own command (the button is disabled once consent is withdrawn). */
async function syncCommand(s) {
  return s.execute("return window.__TAURI_INTERNALS__.invoke('sync_now').then((v) => v, (e) => ({ error: e }))");
}

export const CONSENT = {
  name: 'consent',
  env: {},
  async setup(_dataDir, ctx) {
    if (!ctx.ilot) throw new Error('the consent scenario needs --ilot <ilot binary> for its operator server');
    ctx.server = await OperatorServer.start({ ilot: ctx.ilot, logFile: join(ctx.logs, 'consent-server.log') });
  },
  async teardown(ctx) {
    await ctx.server?.stop();
  },
  steps: [
    {
      name: 'onboarding-enrolment',
      async run({ session: s, server }) {
        await onboard(s, {
          async enrol(s) {
            await s.type(tid('enrol-code'), server.code);
            await s.type(tid('enrol-server'), server.base);
            await s.click(tid('enrol-submit'));
            assert.match(await s.textOf(tid('ob-enrolled')), /dossier E2E-001/);
            await s.click(tid('ob-next'));
          },
        });
        await s.waitFor(tid('sync-line'), { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
      },
    },
    {
      name: 'operator-reading-reaches-the-access-log',
      async run({ session: s, server, shot }) {
        await server.entries(); // the physician reads the patient's readings
        await nav(s, 'home');
        await s.click(tid('sync-now'));
        await s.waitFor(`${tid('sync-line')}[data-state="idle"]`, { text: /Tout est envoyé à votre équipe/, timeoutMs: 30_000 });
        await nav(s, 'access');
        const entry = await s.waitFor(`${tid('access-entry')}[data-action="read-entries"]`, { timeoutMs: 15_000 });
        assert.match(await s.text(entry), /^Dr Martin \(médecin\) a consulté vos mesures — \S+ \d+ \S+ \d{4} à \d{2}:\d{2}$/);
        await shot('access-log');
      },
    },
    {
      name: 'withdrawal-in-settings',
      async run({ session: s, server, shot }) {
        await nav(s, 'settings');
        await s.click(tid('settings-withdraw'));
        await shot('withdraw-confirm');
        await s.click(tid('settings-withdraw-yes'));
        await s.waitFor(tid('notice'), { text: /Accord retiré/ });
        // The loop (or this sync) tells the server once.
        await syncCommand(s);
        const deadline = Date.now() + 30_000;
        let page;
        do {
          page = await server.api('GET', `/v1/operator/patients/${server.patientId}/consent`);
          if (page.current?.decision === 'withdrawn') break;
          await new Promise((r) => setTimeout(r, 500));
        } while (Date.now() < deadline);
        assert.equal(page.current?.decision, 'withdrawn', JSON.stringify(page));
        assert.equal(page.current.channel, 'app');
        assert.deepEqual(
          page.history.map((h) => h.decision),
          ['given', 'withdrawn'],
        );
        const { patient } = await server.api('GET', `/v1/operator/patients/${server.patientId}`);
        assert.equal(patient.consent_granted, false);
      },
    },
    {
      name: 'nothing-more-reaches-the-server',
      async run({ session: s, server }) {
        const before = (await server.entries()).length;
        await nav(s, 'home');
        await s.click(tid('quick-glucose'));
        await s.type(tid('glucose-input'), '1,42');
        await s.click(tid('entry-save'));
        await s.waitFor(tid('notice'), { text: 'Enregistré' });
        await syncCommand(s);
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal((await server.entries()).length, before, 'the reading stays on the device');
        await s.waitFor(tid('sync-line'), { text: /retiré votre accord/ });
      },
    },
    {
      // "Donner mon accord" in Settings: the server records consent given in the app and takes
      // the next reading; the one typed while consent was withdrawn never leaves the device.
      name: 'consent-given-again-in-settings',
      async run({ session: s, server, shot }) {
        const before = (await server.entries()).length;
        await nav(s, 'settings');
        assert.match(await s.textOf(tid('settings-consent-state')), /Vous avez retiré votre accord/);
        await s.click(tid('settings-give-consent'));
        await s.waitFor(tid('notice'), { text: /Accord enregistré/ });
        await nav(s, 'home');
        await s.click(tid('quick-glucose'));
        await s.type(tid('glucose-input'), '1,23');
        await s.click(tid('entry-save'));
        await s.waitFor(tid('notice'), { text: 'Enregistré' });
        await syncCommand(s);
        const deadline = Date.now() + 30_000;
        let entries;
        do {
          entries = await server.entries();
          if (entries.length > before) break;
          await new Promise((r) => setTimeout(r, 500));
        } while (Date.now() < deadline);
        assert.equal(entries.length, before + 1, 'only the reading typed after the new consent');
        const page = await server.api('GET', `/v1/operator/patients/${server.patientId}/consent`);
        assert.deepEqual([page.current?.decision, page.current?.channel], ['given', 'app']);
        await shot('consent-given-again');
      },
    },
    {
      // The physician records a withdrawal in consultation: after a sync the app's own consent
      // follows it, Settings and the sync line say who recorded it, and nothing is pushed.
      name: 'team-withdrawal-followed',
      async run({ session: s, server, shot }) {
        await server.api('POST', `/v1/operator/patients/${server.patientId}/consent`, { decision: 'withdrawn', notice_version: 2 });
        await syncCommand(s);
        await nav(s, 'settings');
        const said = await s.waitFor(tid('settings-consent-state'), { text: /Votre équipe a enregistré le retrait de votre accord/, timeoutMs: 30_000 });
        assert.match(await s.text(said), /Dr Martin, médecin/);
        await s.waitFor(tid('sync-line'), { text: /votre équipe a enregistré le retrait de votre accord/ });
        await shot('team-withdrawal-followed');
      },
    },
  ],
};
