// Both catalogues hold the same keys, every key the code names exists, and every alert kind and
// billing reason the server can send (read from the Rust enums) has its words.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fr from './fr.json';
import en from './en.json';
import { CATEGORIES } from '../lib/api';
import uiFr from '../../../../../ui/src/i18n/fr.json';
import { shared } from '../lib/i18n';

const src = join(__dirname, '..');
const rules = join(__dirname, '../../../../ilot-rules/src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(svelte|ts)$/.test(f) && !f.endsWith('.test.ts') ? [p] : [];
  });
}

/** The kebab-case names of a Rust enum's variants. */
function variants(file: string, name: string): string[] {
  const text = readFileSync(join(rules, file), 'utf8');
  const body = new RegExp(`pub enum ${name} \\{([^}]*)\\}`).exec(text)?.[1];
  if (!body) throw new Error(`enum ${name} not found in ${file}`);
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[A-Z]\w*,?$/.test(l))
    .map((l) => l.replace(',', '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase());
}

describe('catalogues', () => {
  it('French and English hold the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
  });

  it('hold every literal key the code uses', () => {
    const used = new Set<string>();
    for (const f of files(src)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\$_\('([a-z][\w.-]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(20);
    const fromUi = shared(uiFr);
    const missing = [...used].filter((k) => !(k in fr) && !(k in fromUi));
    expect(missing).toEqual([]);
  });

  it('name every category, alert kind and billing reason', () => {
    const kinds = variants('alerts.rs', 'AlertKind');
    expect(kinds).toContain('no-data');
    const reasons = variants('observance.rs', 'NotBillable');
    const billing = variants('observance/billing.rs', 'Reason');
    expect(billing).toContain('no-accompaniment');
    expect(reasons).toContain('previous-insufficient');
    const needed = [
      ...CATEGORIES.flatMap((c) => [`triage.category.${c}`, `triage.rule.${c}`]),
      ...kinds.map((k) => `alert.kind.${k}`),
      ...reasons.map((r) => `triage.billing.no.${r}`),
      ...billing.map((r) => `billing.reason.${r}`),
      ...['very-low', 'low', 'in-range', 'high', 'very-high'].map((b) => `triage.band.${b}`),
    ];
    expect(needed.filter((k) => !(k in fr))).toEqual([]);
  });
});
