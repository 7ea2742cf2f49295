// One app on the desktop: with the app open (onboarded, enrolment "later"), the system starts
// a second Ilot process with an ilot://enrol link (what a desktop does when the patient clicks
// the link in the care team's e-mail). tauri-plugin-single-instance hands the link to the
// running window over the session D-Bus and ends the second process before it opens anything;
// the running window shows the enrolment form filled with the link, and the patient confirms.
// The scenario runs on a private D-Bus session bus (dbus-daemon) that both processes share.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { processTree } from './harness.mjs';
import { onboard, nav, tid } from './patient.mjs';
import { OperatorServer } from './server.mjs';
import { sleep } from './webdriver.mjs';

/** A private session bus; resolves with its address and the process to stop. */
function sessionBus() {
  return new Promise((resolve, reject) => {
    const child = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.once('error', reject);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('unix:'));
      if (line) resolve({ address: line.trim(), child });
    });
    setTimeout(() => reject(new Error('dbus-daemon printed no address')), 10_000);
  });
}

/** Every X window named Ilot (xwininfo, from x11-utils), when the tool is there. */
async function ilotWindows() {
  return new Promise((resolve) => {
    const c = spawn('xwininfo', ['-root', '-tree'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', () => resolve(null));
    c.on('exit', (code) => resolve(code === 0 ? out.split('\n').filter((l) => /"Ilot"/.test(l)).length : null));
  });
}

export const SINGLE_INSTANCE = {
  name: 'single-instance',
  env: {},
  async setup(_dataDir, ctx) {
    if (!ctx.ilot) throw new Error('the single-instance scenario needs --ilot <ilot binary> for its operator server');
    ctx.bus = await sessionBus();
    ctx.server = await OperatorServer.start({ ilot: ctx.ilot, logFile: join(ctx.logs, 'single-instance-server.log') });
    return { DBUS_SESSION_BUS_ADDRESS: ctx.bus.address };
  },
  async teardown(ctx) {
    await ctx.server?.stop();
    if (ctx.bus && ctx.bus.child.exitCode === null) ctx.bus.child.kill('SIGTERM');
  },
  steps: [
    {
      name: 'onboarding-enrol-later',
      async run({ session: s }) {
        await onboard(s);
        await nav(s, 'logbook'); // somewhere else than the enrolment form
      },
    },
    {
      name: 'second-launch-with-the-link',
      async run(ctx) {
        const s = ctx.session;
        const windowsBefore = await ilotWindows();
        const second = spawn(ctx.app, [ctx.server.patient.link], {
          env: { ...process.env, ...ctx.env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        const logs = [];
        second.stderr.on('data', (d) => logs.push(d));
        const exit = await Promise.race([
          new Promise((r) => second.once('exit', (code) => r({ code }))),
          sleep(30_000).then(() => null),
        ]);
        if (!exit) second.kill('SIGKILL');
        assert.ok(exit, `the second process did not end by itself:\n${Buffer.concat(logs)}`);
        assert.equal(exit.code, 0, `the second process ended with ${exit.code}:\n${Buffer.concat(logs)}`);
        // The running window went to the enrolment form, filled with the link.
        await s.waitFor(`#settings-enrol-code`);
        await s.waitFor(tid('enrol-link-seen'));
        const filled = await s.execute('return document.querySelector(\'[data-testid="enrol-code"]\').value');
        assert.equal(filled, ctx.server.patient.link);
        assert.equal((await s.windowHandles()).length, 1, 'one window in the running app');
        const apps = processTree(ctx.driver.child.pid).filter((p) => p.comm.startsWith('ilot-app'));
        assert.equal(apps.length, 1, `one app process (${apps.map((p) => p.pid).join(', ')})`);
        const windowsAfter = await ilotWindows();
        if (windowsBefore !== null) assert.equal(windowsAfter, windowsBefore, 'no new X window named Ilot');
        ctx.metrics.x_windows_named_ilot = { before: windowsBefore, after: windowsAfter };
      },
    },
    {
      name: 'enrol-from-the-link',
      async run({ session: s }) {
        await s.click(`${tid('enrol-form')} ${tid('enrol-submit')}`);
        await s.waitFor(tid('notice'), { text: /dossier E2E-001/ });
        await s.waitFor(tid('settings-enrolled'));
      },
    },
  ],
};
