// What the console's real-browser tests (triage.mjs, patient.mjs, billing.mjs) share: the paths
// and the password, a real `ilot server` on a free port with its operators, real `ilot` devices,
// the system Chromium, the login through the page, axe-core, and the clean-up.
//
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../../tests/e2e/harness.mjs';
import { totp } from '../../../../tests/e2e/server.mjs';

const run = promisify(execFile);
/** The repository's root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const ilot = process.env.ILOT_BIN ?? join(target, 'debug/ilot');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshots go. */
export const shots = join(root, 'artifacts/screenshots');
/** Every operator's password. */
export const PASSWORD = 'console e2e password';

/** An assertion whose failure message starts with `prefix` (e.g. "console e2e"). */
export function checker(prefix) {
  return (cond, msg) => {
    if (!cond) throw new Error(`${prefix}: ${msg}`);
  };
}

/** The temporary folders of a test named `name` (server and devices; browser profile), and the screenshots' folder. */
export function folders(name) {
  mkdirSync(shots, { recursive: true });
  return {
    dir: mkdtempSync(join(tmpdir(), `ilot-${name}-e2e-`)),
    profile: mkdtempSync(join(tmpdir(), `ilot-${name}-chromium-`)),
  };
}

// ---- The server ----------------------------------------------------------------------------

/**
 * The server's database in `dir` and the port it will listen on: { db, port, base, cli }, where
 * `cli(args, env)` runs `ilot --db <db> ...args` and resolves to its stdout.
 */
export async function serverDb(dir) {
  const db = `sqlite:${join(dir, 'server.db')}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cli = (args, env = {}) =>
    run(ilot, ['--db', db, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }).then((r) => r.stdout);
  return { db, port, base, cli };
}

/** `ilot operator create-operator ...args` with PASSWORD; resolves to its stdout. */
export function createOperator(cli, args) {
  return cli(['operator', 'create-operator', ...args], { ILOT_PASSWORD: PASSWORD });
}

/** The TOTP secret create-operator printed (undefined if none). */
export function secretOf(out) {
  return /type the secret: (\S+)/.exec(out)?.[1];
}

/** drmartin (Dr Martin), the team's physician; resolves to the TOTP secret (checked printed). */
export async function createPhysician(cli, check) {
  const created = await createOperator(cli, ['--username', 'drmartin', '--name', 'Dr Martin']);
  const secret = secretOf(created);
  check(secret, `create-operator printed no TOTP secret:\n${created}`);
  return secret;
}

/** Another team, autre-equipe, with its physician drb (Dr B): its patients must never show. */
export async function createOtherTeam(cli) {
  await cli(['operator', 'create-team', '--name', 'autre-equipe']);
  await createOperator(cli, ['--username', 'drb', '--name', 'Dr B', '--team', 'autre-equipe']);
}

/**
 * Starts `ilot server` on the database and port of `serverDb` (`extra`: more arguments) and
 * waits until it answers: { server (the child process), log (its stdout and stderr chunks) }.
 */
export async function startServer({ db, port, base }, check, extra = []) {
  const server = spawn(ilot, ['--db', db, 'server', '--listen', `127.0.0.1:${port}`, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  server.stdout.on('data', (d) => log.push(d));
  server.stderr.on('data', (d) => log.push(d));
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/openapi.json`).then((r) => r.ok, () => false)) break;
    check(i < 150 && server.exitCode === null, `ilot server did not start:\n${Buffer.concat(log)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { server, log };
}

// ---- The devices ---------------------------------------------------------------------------

/**
 * A patient's device in the new folder `home`: `dev(args)` runs `ilot --db <home>/app.db ...args`
 * (file keystore) and resolves to its stdout.
 */
export function device(home) {
  mkdirSync(home);
  return (args) =>
    run(ilot, ['--db', join(home, 'app.db'), ...args], {
      env: { ...process.env, ILOT_KEYSTORE: 'file' },
      maxBuffer: 1 << 24,
    }).then((r) => r.stdout);
}

/** Writes `csv` (recordings.mjs's csvOf) to <home>/cgm.csv and imports it on the device (mg/dL, UTC). */
export async function importCgm(dev, home, csv) {
  writeFileSync(join(home, 'cgm.csv'), csv);
  await dev(['import', 'csv', join(home, 'cgm.csv'), '--unit', 'mg/dL', '--tz', 'UTC']);
}

// ---- The browser ---------------------------------------------------------------------------

/** The system Chromium, headless, with the fresh profile folder `profile`, 1366×768, in French. */
export function launchBrowser(profile, options = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1366, height: 768 },
    locale: 'fr-FR',
    ...options,
  });
}

/**
 * The page's errors (console errors and uncaught exceptions), collected from now on. Left out:
 * the one expected refusal, "who is logged in?" asked before anyone is, and the console
 * messages `expected(m)` says are expected.
 */
export function watchProblems(page, expected = () => false) {
  const problems = [];
  page.on('console', (m) => {
    const probe = m.location().url.endsWith('/v1/console/session') && m.text().includes('401');
    if (m.type() === 'error' && !probe && !expected(m)) problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return problems;
}

/** Fills the login form as `username` (PASSWORD, the TOTP code of `secret` now); does not submit. */
export async function fillLogin(page, secret, username = 'drmartin') {
  await page.getByLabel('Identifiant').fill(username);
  await page.getByLabel('Mot de passe').fill(PASSWORD);
  await page.getByLabel("Code de l'application d'authentification").fill(totp(secret));
}

/** Opens the console at `base` and logs in as drmartin. */
export async function logIn(page, base, secret) {
  await page.goto(base);
  await fillLogin(page, secret);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}

/** axe-core on the page: no serious or critical violation; resolves to the number of the others. */
export async function axe(page, screen, check) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    bad.length === 0,
    `${screen}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(' ')}`).join('; ')}`,
  );
  return r.violations.length;
}

/** No Content-Security-Policy violation, then no error at all, among `watchProblems`'s. */
export function checkNoProblems(problems, check) {
  const csp = problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
  check(csp.length === 0, `CSP violations: ${csp.join('; ')}`);
  check(problems.length === 0, `errors in the page: ${problems.join('; ')}`);
}

// ---- The end -------------------------------------------------------------------------------

/** After a failure: the server's output to artifacts/<file>. */
export function saveServerLog(world, file) {
  if (world) writeFileSync(join(root, 'artifacts', file), Buffer.concat(world.log));
}

/** Passing or not: closes the browser, stops the server, removes the temporary folders. */
export async function tearDown({ context, world, dir, profile }) {
  await context?.close();
  if (world?.server.exitCode === null) world.server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}
