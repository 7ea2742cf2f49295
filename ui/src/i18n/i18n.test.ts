// Catalogue completeness: both languages have the same keys, every message parses, every key the
// code uses exists (literal keys found by scanning the sources; dynamic families from the same
// constants the code uses), and every name the Rust side sends (advice keys, alert kinds, error
// codes, the domain's value names) has a translation.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getMessageFormatter } from 'svelte-i18n';
import fr from './fr.json';
import en from './en.json';
import { MEAL_CONTEXTS } from '../lib/meal';
import { MODULES, UNDERSTANDING } from '../lib/education';
import { ERROR_CODES, IMPORT_REASONS, whatKey } from '../lib/errors';
import { KNOWN_ACTIONS, accessWhat } from '../lib/rights';

const catalogues: Record<string, Record<string, string>> = { fr, en };
const srcDir = resolve(__dirname, '..');
const repo = resolve(srcDir, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(svelte|ts)$/.test(name) && !name.endsWith('.test.ts') ? [p] : [];
  });
}
const sources = files(srcDir).map((p) => readFileSync(p, 'utf8'));
const rust = (path: string) => readFileSync(join(repo, path), 'utf8');
const rustDir = (dir: string, skip: (file: string) => boolean = () => false) =>
  readdirSync(join(repo, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.rs') && !skip(f))
    .map((f) => rust(join(dir, f)))
    .join('\n');

function all(re: RegExp, texts: string[]): string[] {
  return [...new Set(texts.flatMap((t) => [...t.matchAll(re)].map((m) => m[1]!)))];
}

describe('i18n catalogues', () => {
  it('have the same keys in French and English, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
    for (const [lang, cat] of Object.entries(catalogues)) {
      for (const [k, v] of Object.entries(cat)) expect(v.trim(), `${lang} ${k}`).not.toBe('');
    }
  });

  it('parse as ICU messages with the same placeholders in both languages', () => {
    const placeholders = (m: string) => [...new Set([...m.matchAll(/\{(\w+)[,}]/g)].map((x) => x[1]))].sort();
    for (const key of Object.keys(fr)) {
      const f = fr[key as keyof typeof fr];
      const e = en[key as keyof typeof en];
      expect(placeholders(e), key).toEqual(placeholders(f));
      const values = Object.fromEntries(placeholders(f).map((p) => [p!, 2]));
      for (const [lang, m] of [['fr', f], ['en', e]] as const) {
        expect(() => getMessageFormatter(m, lang).format(values), `${lang} ${key}`).not.toThrow();
      }
    }
  });

  it('hold every literal key used in the code', () => {
    const keys = all(/(?:\$_|translate|\bt)\(\s*'([a-z0-9][a-z0-9.-]*)'/g, sources);
    expect(keys.length).toBeGreaterThan(200);
    const missing = keys.filter((k) => !(k in fr));
    expect(missing).toEqual([]);
  });

  it('hold at least one key of every dynamic family used in the code', () => {
    const families = all(/\$_\(\s*`([^`]+)`/g, sources);
    expect(families.length).toBeGreaterThan(20);
    for (const f of families) {
      const re = new RegExp('^' + f.replace(/\./g, '\\.').replace(/\$\{[^}]+\}/g, '[a-z0-9-]+') + '$');
      expect(Object.keys(fr).some((k) => re.test(k)), f).toBe(true);
    }
  });

  it('hold every member of the enumerated families', () => {
    const want = [
      ...MEAL_CONTEXTS.map((c) => `context.${c}`),
      ...MODULES.flatMap((m) => [
        `edu.topic.${m.id}`,
        `edu.${m.id}.title`,
        ...Array.from({ length: m.points }, (_x, i) => `edu.${m.id}.${i + 1}`),
      ]),
      ...UNDERSTANDING.map((u) => `nurse.understanding.${u}`),
      ...ERROR_CODES.map((c) => `error.${c}`),
      ...['very-low', 'low', 'in-range', 'high', 'very-high'].flatMap((z) => [`zone.${z}`, `tir.${z}`]),
      ...['falling-fast', 'falling', 'falling-slowly', 'stable', 'rising-slowly', 'rising', 'rising-fast'].map((d) => `trend.${d}`),
      ...['info', 'warning', 'urgent'].map((s) => `severity.${s}`),
      ...['glucose', 'insulin', 'carbs', 'hypo', 'ketones', 'weight', 'hba1c', 'activity', 'note', 'education'].flatMap((k) => [
        `kind.${k}`,
        `entry.add.${k}`,
        `entry.edit.${k}`,
      ]),
      ...['manual', 'meter', 'cgm', 'import'].map((s) => `source.${s}`),
      ...['in-progress', 'complete', 'insufficient', 'interrupted', 'deceased'].map((s) => `observance.status.${s}`),
      ...['basal', 'bolus', 'correction', 'mixed'].map((k) => `insulin.kind.${k}`),
      ...['pen', 'pump', 'manual'].map((k) => `insulin.delivery.${k}`),
      ...['sweating', 'shaking', 'hunger', 'palpitations', 'dizziness', 'confusion', 'tiredness'].map((s) => `symptom.${s}`),
      ...['carbs', 'ketones', 'weight', 'hba1c', 'activity', 'note'].map((k) => `amount.error.empty.${k}`),
      ...['carbs', 'ketones', 'weight', 'hba1c', 'activity'].map((k) => `amount.label.${k}`),
      ...['empty', 'not-a-number', 'implausible'].map((e) => `glucose.error.${e}`),
      ...['home', 'logbook', 'charts', 'observance', 'education', 'devices', 'messages', 'appointments', 'access', 'settings'].map((n) => `nav.${n}`),
      ...[...KNOWN_ACTIONS, 'other'].map((a) => `access.action.${a}`),
      ...['given', 'refused', 'withdrawn'].map((d) => `consent.decision.${d}`),
      ...['meter', 'cgm'].map((k) => `devices.kind.${k}`),
      ...['day', 'agp', 'trend'].map((t) => `charts.tab.${t}`),
      ...['fr', 'en'].map((l) => `language.${l}`),
    ];
    expect(want.filter((k) => !(k in fr))).toEqual([]);
  });

  it('word every action the server records about a patient in the access log', () => {
    const server = rustDir('crates/ilot-server/src');
    // `read_patient(…, "action", …)`, `op.audit(s, "action", Some(…))`, and the audit events
    // built with `.patient(…)` (by `AuditEvent::new` or a session's `event`).
    const codes = [
      ...all(/read_patient\(\s*&state,\s*op,\s*&id,\s*"([a-z-]+)"/g, [server]),
      ...all(/\.audit\(s, "([a-z-]+)", Some\(/g, [server]),
      ...all(/AuditEvent::new\("([a-z-]+)", now\)\s*\.by\([^)]*\)\s*\.patient\(/g, [server]),
      // `op.event("action", now).patient(…)` (the record's life: closure, reopening, restriction).
      ...all(/\.event\("([a-z-]+)", (?:now|s\.now\(\))\)\s*\.patient\(/g, [server]),
      // The list reads, in the access log of every patient they showed (`.shows(…)`), and the
      // billing table, audited as its caller's action.
      ...all(/\.event\("([a-z-]+)", (?:now|s\.now\(\))\)\s*\.shows\(/g, [server]),
      ...all(/table\(s, &op, month, "([a-z-]+)"\)/g, [server]),
    ];
    expect(codes.length).toBeGreaterThan(15);
    expect(codes.filter((c) => accessWhat(c) === 'access.action.other')).toEqual([]);
    expect(accessWhat('some-future-action')).toBe('access.action.other');
  });

  it('translate every advice key and alert kind of ilot-rules', () => {
    const alerts = rust('crates/ilot-rules/src/alerts.rs');
    const advice = all(/"(advice\.[a-z.-]+)"/g, [alerts]);
    expect(advice).toEqual(
      expect.arrayContaining([
        'advice.hypo.resugar',
        'advice.hypo.severe',
        'advice.hypo.repeated',
        'advice.hyper',
        'advice.hyper.ketones',
        'advice.out-of-target',
        'advice.tbr',
        'advice.no-data',
        'advice.insulin.missed',
      ]),
    );
    expect(advice.filter((k) => !(k in fr))).toEqual([]);
    const block = alerts.slice(alerts.indexOf('pub enum AlertKind'), alerts.indexOf('}', alerts.indexOf('pub enum AlertKind')));
    const kinds = [...block.matchAll(/^\s+([A-Z][A-Za-z0-9]+),/gm)].map((m) =>
      m[1]!.replace(/([a-z])([A-Z0-9])/g, '$1-$2').toLowerCase(),
    );
    expect(kinds.length).toBe(9);
    expect(kinds.map((k) => `alert.${k}`).filter((k) => !(k in fr))).toEqual([]);
  });

  it('say the hypo advice of SPEC §3 in both languages', () => {
    expect(fr['advice.hypo.resugar']).toMatch(/15 g de sucre.*3 morceaux.*150 mL.*15 minutes/);
    expect(en['advice.hypo.resugar']).toMatch(/15 g of fast sugar.*3 sugar cubes.*150 mL.*15 minutes/);
    expect(fr['advice.hypo.severe']).toMatch(/glucagon.*15/);
    expect(en['advice.hypo.severe']).toMatch(/glucagon.*15/);
  });

  it('have every text the shell shows itself (notifications of the scheduled rules)', () => {
    // The shell reads this catalogue (src-tauri/src/catalogue.rs): `text(lang, "key", …)`, and
    // `counted(lang, "key", …)` for the day's readings and scans.
    const shell = rustDir('src-tauri/src', (f) => f.startsWith('catalogue'));
    const keys = all(/\b(?:text|counted)\(\s*&?\w+,\s*"([a-z][a-z0-9.-]+)"/g, [shell]);
    expect(keys).toEqual(
      expect.arrayContaining(['reminder.recheck.title', 'reminder.readings.body', 'reminder.scans.body', 'alert.missed-insulin']),
    );
    for (const cat of [fr, en]) expect(keys.filter((k) => !(k in cat))).toEqual([]);
    expect(fr['reminder.readings.body']).toContain('{done}');
    expect(en['reminder.readings.body']).toContain('{asked}');
  });

  it('translate every error code the shell sends', () => {
    // catalogue.rs names languages and placeholders, not error codes.
    const shell = rustDir('src-tauri/src', (f) => f.startsWith('catalogue') || f.startsWith('reminders'));
    const codes = all(/(?:Error::input(?:_with)?\(\s*|\(\s*)"([a-z][a-z-]+)",\s*(?:Value::Null|json!|"|format!)/g, [shell]);
    const errors = rust('src-tauri/src/error.rs');
    const ble = errors.slice(errors.indexOf('let code = match b {'), errors.indexOf('};', errors.indexOf('let code = match b {')));
    codes.push(...all(/=> "([a-z][a-z-]+)"/g, [ble]));
    expect(codes).toEqual(expect.arrayContaining(['bluetooth-unavailable', 'device-lost', 'no-simulator']));
    expect(codes.length).toBeGreaterThan(15);
    expect(codes.filter((c) => !ERROR_CODES.includes(c))).toEqual([]);
  });

  it('say every reason an import refuses a row for (ilot-import why.rs and the domain)', () => {
    const why = rust('crates/ilot-import/src/why.rs');
    const list = why.slice(why.indexOf('pub const CODES'), why.indexOf('];', why.indexOf('pub const CODES')));
    const codes = all(/"([a-z][a-z-]+)"/g, [list]);
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((c) => !IMPORT_REASONS.has(c))).toEqual([]);
    expect([...IMPORT_REASONS].filter((c) => !codes.includes(c))).toEqual([]);
    expect(codes.map((c) => `import.why.${c}`).filter((k) => !(k in fr))).toEqual([]);
    // Every `Why::new("code", …)` is in the list; the domain's own codes are error codes.
    const made = all(/Why::new\(\s*"([a-z][a-z-]+)"/g, [rustDir('crates/ilot-import/src')]);
    expect(made.filter((c) => !codes.includes(c))).toEqual([]);
    const domain = rust('crates/ilot-domain/src/error.rs');
    const domainCodes = all(/=> \(\s*"([a-z][a-z-]+)"/g, [domain]);
    expect(domainCodes).toEqual(expect.arrayContaining(['glucose-implausible', 'not-a-number', 'future-time']));
    expect(domainCodes.filter((c) => !ERROR_CODES.includes(c))).toEqual([]);
    // The values an import names (`no_value("…")`, `number("…")`, Nightscout's keys) are worded.
    const importer = rustDir('crates/ilot-import/src');
    const whats = [...all(/no_value\(\s*"([^"]+)"/g, [importer]), ...all(/number\("([^"]+)"/g, [importer]), ...all(/num_of\(item, "([^"]+)"\)/g, [importer]).map(nightscoutWhat)];
    expect(whats.length).toBeGreaterThan(4);
    expect(whats.map(whatKey).filter((k) => !(k in fr))).toEqual([]);
  });

  it("name every value the domain checks (ilot-domain 'what')", () => {
    const texts = [rustDir('crates/ilot-domain/src'), rust('src-tauri/src/input.rs')];
    const whats = [
      ...all(/check_range\(\s*"([^"]+)"/g, texts),
      ...all(/what: "([^"]+)"/g, texts),
      ...all(/Empty\("([^"]+)"\)/g, texts),
      ...all(/number\("([^"]+)"/g, texts),
      ...all(/parse_decimal\("([^"]+)"/g, texts),
    ].filter((w) => !['meal context', 'reading type', 'insulin kind', 'insulin delivery', 'ketone source', 'activity intensity', 'device id', 'diabetes type', 'monitoring'].includes(w));
    expect(whats.length).toBeGreaterThan(8);
    expect(whats.map(whatKey).filter((k) => !(k in fr))).toEqual([]);
  });
});

/** What ilot-import's Nightscout reader names a JSON key's value (`nightscout.rs` `what_of`). */
function nightscoutWhat(key: string): string {
  return ({ sgv: 'glucose', mbg: 'glucose', glucose: 'glucose', insulin: 'insulin dose', carbs: 'carbohydrates' } as Record<string, string>)[key] ?? key;
}
