// "Se connecter avec Pro Santé Connect" in a real browser (system Chromium driven by
// playwright-core): a real `ilot server` configured with a real local OpenID provider
// (node-oidc-provider set up like PSC, crates/ilot-server/tests/psc/provider.mjs). An
// administrator links Dr Martin's RPPS with `ilot operator link-rpps`; the button on the login
// screen takes the browser to the provider, Dr Martin types her national id there, and the
// browser comes back to the console logged in, on the triage. A professional whose RPPS is
// linked to no account comes back to the login screen told why, with no session. axe-core finds
// no serious or critical violation on the console's screens.
// Screenshots: artifacts/screenshots/console-psc*.png.
//
//   node e2e/psc.mjs        (scripts/test-console.sh builds everything first)
// Env: ILOT_BIN (default $CARGO_TARGET_DIR/debug/ilot), CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import * as h from './harness.mjs';
import { root, shots } from './harness.mjs';

const check = h.checker('psc e2e');
const CLIENT_ID = 'ilot-console-e2e';
const SECRET = 'the console e2e client secret';
/** Marie MARTIN's national id at the provider (8 + RPPS), linked to drmartin. */
const MARTIN = '899700000001';
/** Paul DURAND: a professional the provider knows, linked to no Ilot account. */
const DURAND = '899700000002';

/** The local provider, its clients' redirect URI `redirect`: { child, issuer }. */
async function startProvider(redirect) {
  const child = spawn('node', ['provider.mjs'], {
    cwd: join(root, 'crates/ilot-server/tests/psc'),
    env: { ...process.env, PSC_CLIENT_ID: CLIENT_ID, PSC_CLIENT_SECRET: SECRET, PSC_REDIRECT_URIS: redirect },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (c) => reject(new Error(`provider.mjs exited (${c}): npm ci --prefix crates/ilot-server/tests/psc`)));
  });
  return { child, issuer: JSON.parse(first).issuer };
}

async function main() {
  const { dir, profile } = h.folders('psc');
  let context;
  let world;
  let provider;
  try {
    const sdb = await h.serverDb(dir);
    const { base, cli } = sdb;
    await h.createPhysician(cli, check);
    const linked = await cli(['operator', 'link-rpps', '--username', 'drmartin', '--rpps', MARTIN]);
    check(linked.includes('RPPS 99700000001 linked to drmartin'), `link-rpps said: ${linked}`);
    // Linked once: a second link of the same RPPS is refused.
    const again = await cli(['operator', 'link-rpps', '--username', 'drmartin', '--rpps', MARTIN]).then(
      () => null,
      (e) => String(e.stderr ?? e),
    );
    check(again?.includes('linked once'), `linking the RPPS again was not refused: ${again}`);

    provider = await startProvider(`${base}/v1/console/psc/callback`);
    const secretFile = join(dir, 'psc-secret');
    writeFileSync(secretFile, SECRET, { mode: 0o600 });
    world = await h.startServer(sdb, check, [
      '--psc-issuer', provider.issuer,
      '--psc-client-id', CLIENT_ID,
      '--psc-client-secret-file', secretFile,
    ]);
    check(!Buffer.concat(world.log).toString().includes(SECRET), 'the client secret is in the server output');

    context = await h.launchBrowser(profile);
    const page = context.pages()[0] ?? (await context.newPage());
    // The provider's own pages are not the console's: their console messages are not ours.
    const problems = h.watchProblems(page, (m) => m.location().url.startsWith(provider.issuer));

    // The login screen offers Pro Santé Connect beside the password and code.
    await page.goto(base);
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    const button = page.getByRole('link', { name: 'Se connecter avec Pro Santé Connect' });
    await button.waitFor();
    await h.axe(page, 'login with PSC', check);
    await page.screenshot({ path: join(shots, 'console-psc-login.png'), fullPage: true });

    // At the provider: the national id, e-CPS; back on the console, logged in, on the triage.
    await button.click();
    await page.getByLabel('Identifiant national').fill(MARTIN);
    await page.getByRole('button', { name: 'Se connecter avec e-CPS' }).click();
    await page.getByRole('heading', { name: 'Patients à regarder' }).waitFor();
    const who = await page.getByTestId('who').innerText();
    check(who.includes('Dr Martin'), `logged in as ${who}`);
    check(new URL(page.url()).origin === base, `landed on ${page.url()}`);
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === 'ilot_session');
    check(session?.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);
    await h.axe(page, 'triage after PSC', check);
    await page.screenshot({ path: join(shots, 'console-psc-triage.png'), fullPage: true });

    // Log out, then a professional with no linked account: back on the login screen, told why.
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    // Another professional at this computer: the provider's own single sign-on is forgotten.
    await context.clearCookies();
    await page.getByRole('link', { name: 'Se connecter avec Pro Santé Connect' }).click();
    await page.getByLabel('Identifiant national').fill(DURAND);
    await page.getByRole('button', { name: 'Se connecter avec e-CPS' }).click();
    const refused = page.getByTestId('psc-error');
    await refused.waitFor();
    check((await refused.innerText()).includes('RPPS'), `the refusal says: ${await refused.innerText()}`);
    check(!page.url().includes('psc_error'), 'the refusal stays in the address bar');
    check(!(await context.cookies(base)).some((c) => c.name === 'ilot_session' && c.value), 'a refused login left a session');
    await h.axe(page, 'login refused by PSC', check);
    await page.screenshot({ path: join(shots, 'console-psc-refused.png'), fullPage: true });

    h.checkNoProblems(problems, check);
    console.log('psc e2e: ok (login through the local provider to the triage; unknown RPPS refused)');
  } catch (e) {
    h.saveServerLog(world, 'console-psc-server.log');
    throw e;
  } finally {
    provider?.child.kill('SIGTERM');
    await h.tearDown({ context, world, dir, profile });
  }
}

await main();
