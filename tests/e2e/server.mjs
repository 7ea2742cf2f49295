// A real operator server for the e2e tests: `ilot server` on a free loopback port over a fresh
// SQLite database, a physician created with `ilot operator create-operator` (password + TOTP),
// a patient with `ilot operator create-patient` (its one-time enrolment code), and the operator
// API read as the care team reads it: logged in with the password and the current TOTP code.

import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './harness.mjs';
import { sleep } from './webdriver.mjs';

const PASSWORD = 'e2e-operator-password';

/** RFC 6238 code (SHA-1, 6 digits, 30 s) for a base32 secret, as an authenticator app shows it. */
export function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`totp: ${c} is not base32`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

export class OperatorServer {
  /** Creates the database, the physician and one patient, then starts the server. */
  static async start({ ilot, logFile }) {
    const dir = mkdtempSync(join(tmpdir(), 'ilot-e2e-server-'));
    const db = `sqlite:${join(dir, 'server.db')}`;
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const run = (args, env = {}) =>
      execFileSync(ilot, ['--db', db, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const created = run(['operator', 'create-operator', '--username', 'drmartin', '--name', 'Dr Martin'], {
      ILOT_PASSWORD: PASSWORD,
    });
    const secret = /type the secret: (\S+)/.exec(created)?.[1];
    if (!secret) throw new Error(`create-operator printed no TOTP secret:\n${created}`);
    const patient = JSON.parse(
      run(['operator', 'create-patient', '--pseudonym', 'E2E-001', '--by', 'drmartin', '--public-url', base, '--json']),
    );
    const child = spawn(ilot, ['--db', db, 'server', '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ILOT_LOG: 'info' },
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    const srv = new OperatorServer({ dir, db, base, run, child, chunks, logFile, secret, patient });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`ilot server exited:\n${Buffer.concat(chunks)}`);
      if (await fetch(`${base}/openapi.json`).then((r) => r.ok, () => false)) return srv;
      await sleep(100);
    }
    await srv.stop();
    throw new Error('ilot server did not answer /openapi.json within 15 s');
  }

  constructor(fields) {
    Object.assign(this, fields);
    this.token = null;
  }

  /** The one-time enrolment code the care team hands to the patient. */
  get code() {
    return this.patient.code;
  }

  get patientId() {
    return this.patient.patient_id;
  }

  async api(method, path, body) {
    if (!this.token) {
      const r = await fetch(`${this.base}/v1/operator/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'drmartin', password: PASSWORD, totp: totp(this.secret) }),
      });
      if (!r.ok) throw new Error(`operator login: ${r.status} ${await r.text()}`);
      this.token = (await r.json()).token;
    }
    const r = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  /** Every version of every entry the server holds for the patient (deleted ones included). */
  async entries() {
    const all = [];
    let cursor = null;
    do {
      const page = await this.api('GET', `/v1/operator/patients/${this.patientId}/entries${cursor ? `?cursor=${cursor}` : ''}`);
      all.push(...page.entries);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  /** A message from the care team, sent the way a physician at the console does. */
  message(text) {
    this.run(['operator', 'message', '--patient', this.patientId, '--text', text, '--by', 'drmartin']);
  }

  async stop() {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(3000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    if (this.logFile) writeFileSync(this.logFile, Buffer.concat(this.chunks));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
