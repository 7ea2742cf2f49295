// Shell errors in the patient's language: `error.<code>` from the catalogue, filled from the
// error's params; the crate's English message only when the code is unknown.

import { IpcError } from './ipc';
import type { Translate } from './time';

const CODES = new Set([
  'glucose-implausible',
  'not-a-number',
  'out-of-range',
  'too-precise',
  'future-time',
  'empty',
  'unknown-name',
  'invalid-prescription',
  'not-found',
  'deleted',
  'store',
  'locked',
  'data-dir',
  'io',
  'export-inexact',
  'pin-shape',
  'pin-guessable',
  'pin-wrong',
  'whole-minutes',
  'import-unreadable',
  'import-refused',
  'bad-time',
  'time-gap',
  'bad-date',
  'text-scale',
  'unknown-language',
  'confirm',
  'conflict',
  'ipc',
  'no-simulator',
  'bluetooth-unavailable',
  'bluetooth-off',
  'device-not-found',
  'device-refused',
  'device-lost',
  'device-unsupported',
  'bluetooth',
  'not-enrolled',
  'no-consent',
  'server-unreachable',
  'server-busy',
  'server-refused',
  'server-key-mismatch',
  'server-untrusted',
  'server-url-bad',
  'server-not-ilot',
  'sync-state',
  'enrol-empty',
  'enrol-server-missing',
  'enrol-expired',
  'enrol-used',
  'enrol-unknown',
  'enrol-code-typo',
  'enrol-link-bad',
  'already-enrolled',
  'enrol-secret-lost',
  'enrol-other-patient',
  'enrol-still-enrolled',
  'enrol-not-confirmed',
  'already-onboarded',
]);

/** The domain's names for values ("insulin dose") as catalogue keys ("what.insulin-dose"). */
export function whatKey(what: unknown): string {
  return `what.${String(what).toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

export function errorText(e: unknown, t: Translate): string {
  if (!(e instanceof IpcError)) return t('error.generic', { values: { message: String(e) } });
  const { code, params, message } = e.shell;
  if (!CODES.has(code)) return t('error.generic', { values: { message } });
  const values: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    values[k] = k === 'what' ? t(whatKey(v)) : typeof v === 'number' ? v : String(v);
  }
  return t(`error.${code}`, { values });
}

export const ERROR_CODES: readonly string[] = [...CODES];

/** ilot-import's own reasons for refusing a row (`crates/ilot-import/src/why.rs` `CODES`). */
export const IMPORT_REASONS: ReadonlySet<string> = new Set([
  'csv-row',
  'time-unreadable',
  'date-invalid',
  'date-order-unknown',
  'time-gap',
  'record-type-unknown',
  'no-value',
  'unknown-word',
  'servings',
  'calculator-changed',
  'duration-unreadable',
  'source-invalid',
]);

/** Why an import refused a row, in the patient's language: `import.why.<code>`, or the
 *  domain's `error.<code>`; the English sentence only for a code this version does not know. */
export function reasonText(r: { code: string; params: Record<string, unknown> | null; reason: string }, t: Translate): string {
  const values: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r.params ?? {})) {
    values[k] = k === 'what' ? t(whatKey(v)) : typeof v === 'number' ? v : String(v);
  }
  if (IMPORT_REASONS.has(r.code)) return t(`import.why.${r.code}`, { values });
  if (CODES.has(r.code)) return t(`error.${r.code}`, { values });
  return r.reason;
}
