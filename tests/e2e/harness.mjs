// Runs e2e scenarios against the real app window: for each scenario a fresh data folder, a
// tauri-driver (which starts WebKitWebDriver, which starts the app) with the scenario's
// environment, a WebDriver session, then its steps in order. A screenshot is saved after every
// step (and on failure) into artifacts/screenshots/. DISPLAY must point at an X server (the
// scripts start Xvfb).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, sleep } from './webdriver.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`tauri-driver did not listen on port ${port}`);
}

/** One running tauri-driver with its environment; sessions open app processes through it. */
export class Driver {
  static async start({ driverBin, env, logFile }) {
    const port = await freePort();
    const nativePort = await freePort();
    const child = spawn(driverBin, ['--port', String(port), '--native-port', String(nativePort)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    const d = new Driver(child, port, chunks, logFile);
    await waitForPort(port);
    return d;
  }

  constructor(child, port, chunks, logFile) {
    this.child = child;
    this.port = port;
    this.chunks = chunks;
    this.logFile = logFile;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops tauri-driver and everything it started (its own process group). */
  async stop() {
    if (this.logFile) writeFileSync(this.logFile, Buffer.concat(this.chunks));
    if (this.child.exitCode !== null) return;
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(3000)]);
    if (this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/** Every process descended from `pid` (from /proc), with its command name and RSS in KiB. */
export function processTree(pid) {
  const all = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      all.push({ pid: Number(name), ppid, comm, rssKiB: rss });
    } catch {
      /* the process ended meanwhile */
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of all.filter((x) => x.ppid === p)) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(pid);
  return out;
}

/**
 * Runs `scenarios` ({ name, env?, setup?(dataDir, ctx), args?(ctx), teardown?(ctx),
 * steps: [{ name, run(ctx) }] }) and returns { passed, failed, results }; `args` are the app's
 * command-line arguments (after `setup`). `ctx` has { session, driver, dataDir, app, ilot, logs,
 * shot(name), restart() }; `setup` may add to `ctx` and return extra environment for the app.
 */
export async function runScenarios(scenarios, { app, ilot, driverBin, artifacts, only }) {
  const shots = join(artifacts, 'screenshots');
  const logs = join(artifacts, 'logs');
  mkdirSync(shots, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const results = [];
  for (const sc of scenarios) {
    if (only && !only.includes(sc.name)) continue;
    const dataDir = mkdtempSync(join(tmpdir(), `ilot-e2e-${sc.name}-`));
    const env = { ILOT_DB: join(dataDir, 'ilot.db'), ILOT_KEYSTORE: 'file', ILOT_LOG: 'info', ...(sc.env ?? {}) };
    let driver;
    let session;
    let n = 0;
    const ctx = {
      app,
      ilot,
      logs,
      dataDir,
      metrics: {},
      get session() {
        return session;
      },
      get driver() {
        return driver;
      },
      async shot(label) {
        n += 1;
        const file = join(shots, `${sc.name}-${String(n).padStart(2, '0')}-${label}.png`);
        writeFileSync(file, await session.screenshot());
        return file;
      },
      /** Ends the app and starts it again on the same data (a cold start). */
      async restart() {
        await session.end();
        await sleep(300);
        const t0 = performance.now();
        session = await Session.start(driver.url, app, { args: ctx.args });
        return t0;
      },
    };
    console.log(`\n▶ ${sc.name}`);
    try {
      if (sc.setup) Object.assign(env, (await sc.setup(dataDir, ctx)) ?? {});
      ctx.env = env;
      ctx.args = sc.args ? sc.args(ctx) : [];
      driver = await Driver.start({ driverBin, env, logFile: join(logs, `${sc.name}.log`) });
      ctx.startedAt = performance.now();
      session = await Session.start(driver.url, app, { args: ctx.args });
      for (const step of sc.steps) {
        const t0 = performance.now();
        try {
          await step.run(ctx);
          await ctx.shot(step.name);
          console.log(`  ✓ ${step.name} (${Math.round(performance.now() - t0)} ms)`);
          results.push({ scenario: sc.name, step: step.name, ok: true });
        } catch (e) {
          console.log(`  ✗ ${step.name}: ${e.message}`);
          results.push({ scenario: sc.name, step: step.name, ok: false, error: e.message });
          await ctx.shot(`${step.name}-FAILED`).catch(() => {});
          break;
        }
      }
    } catch (e) {
      console.log(`  ✗ setup: ${e.message}`);
      results.push({ scenario: sc.name, step: 'setup', ok: false, error: e.message });
    } finally {
      if (session) await session.end();
      if (driver) await driver.stop();
      if (sc.teardown) await sc.teardown(ctx).catch((e) => console.log(`  (teardown: ${e.message})`));
      if (Object.keys(ctx.metrics).length) {
        writeFileSync(join(artifacts, `${sc.name}-metrics.json`), JSON.stringify(ctx.metrics, null, 2));
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const failed = results.filter((r) => !r.ok);
  return { passed: results.length - failed.length, failed, results };
}
