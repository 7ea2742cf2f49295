// The one typed module for every shell command (src-tauri/src/commands). Types mirror the
// Rust views; times are RFC 3339 strings, glucose is canonical mg/dL (null for LO/HI).

import { invoke } from '@tauri-apps/api/core';
import type { Unit } from './units';
import type { MealContext } from './meal';

export type Language = 'fr' | 'en';

export type { ImportCounts, ImportRejected, ImportPreview, ImportOutcome } from './import-types';
import type { ImportOutcome, ImportPreview } from './import-types';

export type Level = 'value' | 'lo' | 'hi';
export interface Reading {
  mg_dl: number | null;
  level: Level;
}

export type Zone = 'very-low' | 'low' | 'in-range' | 'high' | 'very-high';
export type Direction =
  | 'falling-fast'
  | 'falling'
  | 'falling-slowly'
  | 'stable'
  | 'rising-slowly'
  | 'rising'
  | 'rising-fast';
export interface Trend {
  direction: Direction;
  mg_dl_per_min: number;
}

export interface LastGlucose extends Reading {
  id: number;
  at: string;
  cgm: boolean;
  context: MealContext;
  zone: Zone;
  trend: Trend | null;
}

export type AlertKind =
  | 'hypo-l1'
  | 'hypo-l2'
  | 'severe-hypo'
  | 'hyper'
  | 'out-of-target'
  | 'repeated-hypos'
  | 'tbr-over-target'
  | 'no-data'
  | 'missed-insulin';
export type Severity = 'info' | 'warning' | 'urgent';

export interface AlertView {
  key: string;
  kind: AlertKind;
  severity: Severity;
  started_at: string;
  ended_at: string | null;
  extreme: Reading | null;
  percent: number | null;
  count: number | null;
  advice: string;
  notify: boolean;
}

export type SyncState =
  | 'not-enrolled'
  | 'no-consent'
  | 'consent-withdrawn'
  | 'team-withdrawn'
  | 'syncing'
  | 'offline'
  | 'refused'
  | 'idle';
export interface SyncView {
  state: SyncState;
  pending: number;
  last_sent_at: string | null;
  next_try_at: string | null;
  /** The server's error code when it refused (`unknown_device`…), or `local`. */
  refused: string | null;
  /** Messages and appointments the last session brought. */
  received: number;
}
/** Sent by the shell after every sync session (payload: SyncView). */
export const SYNC_EVENT = 'sync-status';

export type {
  AccessEntry,
  AppointmentMode,
  AppointmentView,
  CareRole,
  ConsentRecord,
  Inbox,
  Member,
  MessageView,
  RightsView,
} from './care-types';
import type { AppointmentView, Inbox, Member, MessageView, RightsView } from './care-types';

export interface Enrolled {
  pseudonym: string;
  server: string;
  prescription: boolean;
  /** Enrolled again in place of an identity the care team revoked: what waited goes now. */
  again: boolean;
}

export interface BasalSuggestion {
  time: string;
  units: number;
}

/** ilot-rules `Reminder`: what is due now by the clock. */
export type Reminder =
  | { key: string; due_at: string; kind: 'recheck'; reading_at: string }
  | { key: string; due_at: string; kind: 'readings-today'; done: number; asked: number }
  | { key: string; due_at: string; kind: 'scans-today'; done: number; asked: number };

export interface Home {
  now: string;
  tz: string;
  unit: Unit;
  last: LastGlucose | null;
  alerts: AlertView[];
  reminders: Reminder[];
  basal: BasalSuggestion[];
  prescription_default: boolean;
  entries: number;
  sync: SyncView;
  unread: number;
  latest_unread: MessageView | null;
  next_appointment: AppointmentView | null;
  demo: boolean;
}

/** The decision the sync engine obeys. */
export interface Consent {
  granted: boolean;
  /** When it was given or withdrawn. */
  at: string;
  notice_version: number;
  told_server: boolean;
  /** `consultation`: recorded by the care team, followed after a sync. */
  channel: 'app' | 'consultation';
  collected_by: Member | null;
}

export interface AppInfo {
  language: Language;
  text_scale: number;
  onboarded: boolean;
  consent: Consent | null;
  /** The server this device is enrolled with. */
  enrolled: string | null;
  pin_set: boolean;
  locked: boolean;
  demo: boolean;
  unit: Unit;
  tz: string;
  database: string;
  version: string;
}

export type InsulinKind = 'basal' | 'bolus' | 'correction' | 'mixed';
export type InsulinDelivery = 'pen' | 'pump' | 'manual';
export type KetoneSource = 'blood' | 'urine';
export type Intensity = 'light' | 'moderate' | 'vigorous';
export type EntryKindName =
  | 'glucose'
  | 'insulin'
  | 'carbs'
  | 'hypo'
  | 'ketones'
  | 'weight'
  | 'hba1c'
  | 'activity'
  | 'note'
  | 'education';

/** What the forms send (src-tauri/src/input.rs `EntryInput`); numbers as typed. */
export type EntryInput =
  | { type: 'glucose'; value: string; unit: Unit; context: MealContext; scan?: boolean }
  | { type: 'insulin'; units: string; kind: InsulinKind; delivery: InsulinDelivery; name?: string }
  | { type: 'carbs'; grams: string; label?: string }
  | {
      type: 'hypo';
      symptoms: string[];
      treatment?: string;
      needed_help: boolean;
      glucose?: string;
      unit?: Unit;
    }
  | { type: 'ketones'; value: string; source: KetoneSource }
  | { type: 'weight'; kg: string }
  | { type: 'hba1c'; percent: string }
  | { type: 'activity'; minutes: string; intensity: Intensity; description?: string }
  | { type: 'note'; text: string }
  | {
      type: 'education';
      topics: string[];
      understanding?: string;
      notes?: string;
      next_goals?: string;
      educator?: string;
      remote: boolean;
    };

export interface GivenGlucose {
  value: number;
  unit: Unit;
}
export type GlucoseLevelDetail =
  | { level: 'value'; glucose: GivenGlucose }
  | { level: 'lo' }
  | { level: 'hi' };

/** A stored entry's content, in the domain's serde shape (ilot-domain `EntryKind`). */
export type EntryDetail =
  | { type: 'glucose'; level: GlucoseLevelDetail; reading_type: 'capillary' | 'interstitial' | 'lab' | 'scan'; context: MealContext }
  | { type: 'insulin'; units: number; kind: InsulinKind; delivery: InsulinDelivery; insulin_name: string | null }
  | { type: 'carbs'; grams: number; label: string | null }
  | { type: 'hypo'; symptoms: string[]; treatment: string | null; needed_help: boolean; glucose: GivenGlucose | null }
  | { type: 'ketones'; value: number; source: KetoneSource }
  | { type: 'weight'; kg: number }
  | { type: 'hba1c'; percent: number }
  | { type: 'activity'; minutes: number; intensity: Intensity; description: string | null }
  | { type: 'note'; text: string }
  | {
      type: 'education';
      topics: string[];
      understanding: string | null;
      notes: string | null;
      next_goals: string | null;
      educator: string | null;
      remote: boolean;
    };

export type SourceKind = 'manual' | 'meter' | 'cgm' | 'import';

export interface EntryView {
  id: number;
  version: number;
  at: string;
  recorded_at: string;
  corrected_at: string | null;
  reason: string | null;
  deleted: boolean;
  source: SourceKind;
  device: string | null;
  kind: EntryKindName;
  detail: EntryDetail;
  glucose: Reading | null;
}

export interface Saved {
  id: number;
  version: number;
}

export interface SensorSummary {
  readings: number;
  min_mg_dl: number | null;
  max_mg_dl: number | null;
  mean_mg_dl: number | null;
  lo: number;
  hi: number;
}
export interface LogbookDay {
  date: string;
  entries: EntryView[];
  sensor: SensorSummary | null;
}
export interface Logbook {
  days: LogbookDay[];
  earlier: string | null;
}

/** ilot-rules `Metrics` (see crates/ilot-rules/src/metrics.rs for every definition). */
export interface Metrics {
  n_readings: number;
  n_lo: number;
  n_hi: number;
  mean_mg_dl: number | null;
  sd_mg_dl: number | null;
  cv_percent: number | null;
  gmi_percent: number | null;
  tir_percent: number | null;
  below_54_percent: number | null;
  below_70_percent: number | null;
  between_54_69_percent: number | null;
  above_180_percent: number | null;
  between_181_250_percent: number | null;
  above_250_percent: number | null;
  active_percent: number | null;
  cgm_interval_minutes: number | null;
  window_days: number;
  days_covered: number;
  sufficient: boolean;
  insufficient_reasons: string[];
  hypo_level1_episodes: number;
  hypo_level2_episodes: number;
  pregnancy: {
    tir_63_140_percent: number | null;
    below_63_percent: number | null;
    above_140_percent: number | null;
  } | null;
}

export interface AgpPoint {
  minute: number;
  n: number;
  p5: Reading | null;
  p25: Reading | null;
  p50: Reading | null;
  p75: Reading | null;
  p95: Reading | null;
}

export interface Target {
  low_mg_dl: number;
  high_mg_dl: number;
}

export interface Report {
  from: string;
  to: string;
  days: number;
  tz: string;
  metrics: Metrics;
  agp: AgpPoint[];
  target: Target;
}

export interface DayPoint extends Reading {
  at: string;
  cgm: boolean;
}
export interface DayEvent {
  at: string;
  kind: 'insulin' | 'carbs' | 'hypo' | 'activity';
  amount: number | null;
}
export interface DayView {
  date: string;
  from: string;
  to: string;
  tz: string;
  glucose: DayPoint[];
  events: DayEvent[];
  target: Target;
}

/** Every reading of a span, as columns (seconds since the epoch; null for LO/HI). */
export interface Series {
  t: number[];
  mg_dl: (number | null)[];
  lo: number;
  hi: number;
  target: Target;
}

export interface AlertPolicy {
  version: number;
  hypo_l1_mg_dl: number;
  hypo_l1_cgm_mg_dl: number;
  hypo_l2_mg_dl: number;
  severe_mg_dl: number;
  hyper_mg_dl: number;
  suggest_ketones: boolean;
  target: Target;
  gestational: { fasting_max_mg_dl: number; after_1h_max_mg_dl: number; after_2h_max_mg_dl: number } | null;
  repeated_hypos_count: number;
  repeated_hypos_days: number;
  tbr_threshold_mg_dl: number;
  tbr_max_percent: number;
  no_data_hours: number;
  missed_insulin_grace_hours: number;
}

export type DiabetesType = 'type1' | 'type2-insulin' | 'gestational-insulin' | 'gestational-no-insulin';
export type Monitoring = 'capillary' | 'flash' | 'cgm';

export interface Prescription {
  diabetes_type: DiabetesType;
  injections_per_day: number;
  pump: boolean;
  monitoring: Monitoring;
  pregnancy: boolean;
  start: string;
  trial_end: string | null;
  inclusion_end: string;
  end: string;
  expected_readings_per_day: number;
  expected_insulin_per_day: number;
  cgm_interval_min: number;
  basal: { time: string; units: number }[];
  policy: AlertPolicy;
}

export interface PrescriptionView {
  prescription: Prescription | null;
  policy: AlertPolicy;
}

export type PeriodStatus = 'in-progress' | 'complete' | 'insufficient' | 'interrupted' | 'deceased';
export interface Period {
  number: number;
  first_day: string;
  last_day: string;
  starts_at: string;
  ends_at: string;
  days: number;
  expected: number;
  glucose: number;
  /** Flash prescriptions: the scans among `glucose`, the only glucose `received` counts. */
  scans: number | null;
  insulin: number;
  other: number;
  received: number;
  ratio: number;
  status: PeriodStatus;
  billable: boolean;
  not_billable: string | null;
}
export type Accompaniment =
  | { status: 'done'; first_session: string }
  | { status: 'due'; by: string }
  | { status: 'missed' };
export interface Observance {
  periods: Period[];
  accompaniment: Accompaniment;
  checkpoints: { month: number; ratio: number | null; sufficient: boolean | null }[];
  series: { first_period: number; last_period: number; from: string; to: string }[];
}
export interface ObservanceView {
  prescription: Prescription | null;
  observance: Observance | null;
  tz: string;
}

export interface LastDownload {
  at: string;
  records: number;
  readings_stored: number;
  entries_added: number;
  conflicts: number;
  rejected: number;
  corrected: number;
  clock_skew_min: number | null;
  attempts: number;
}
export interface KnownDevice {
  address: string;
  id: string | null;
  name: string | null;
  kind: 'meter' | 'cgm';
  paired_at: string;
  last: LastDownload | null;
}
export interface DevicesView {
  devices: KnownDevice[];
  simulators: boolean;
}
export interface FoundDevice {
  address: string;
  name: string | null;
  kind: 'meter' | 'cgm';
  rssi: number | null;
}
/** Payload of the `device-download-progress` event. */
export interface DownloadProgress {
  address: string;
  stored: number;
  total: number | null;
}
export const PROGRESS_EVENT = 'device-download-progress';
/** Sent by the shell after a background download stored new entries (payload: KnownDevice). */
export const DOWNLOADED_EVENT = 'device-downloaded';

export type Unlock =
  | { result: 'open' }
  | { result: 'wrong'; tries_left: number }
  | { result: 'wait'; seconds: number };

export interface Onboarding {
  language: Language;
  unit: Unit;
  consent: boolean;
  pin: string;
}

/** The shell's one error (src-tauri/src/error.rs). */
export interface ShellError {
  kind: 'input' | 'store' | 'locked' | 'setup' | 'device' | 'sync';
  code: string;
  message: string;
  params: Record<string, unknown> | null;
}

export class IpcError extends Error {
  readonly shell: ShellError;
  constructor(shell: ShellError) {
    super(shell.message);
    this.shell = shell;
  }
}

function isShellError(e: unknown): e is ShellError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e && 'kind' in e;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    if (isShellError(e)) throw new IpcError(e);
    throw new IpcError({ kind: 'setup', code: 'ipc', message: String(e), params: null });
  }
}

export const ipc = {
  appInfo: () => call<AppInfo>('app_info'),
  setLanguage: (language: Language) => call<void>('set_language', { language }),
  setTextScale: (percent: number) => call<void>('set_text_scale', { percent }),
  setUnit: (unit: Unit) => call<void>('set_unit', { unit }),
  finishOnboarding: (choices: Onboarding) => call<void>('finish_onboarding', { choices }),
  unlock: (pin: string) => call<Unlock>('unlock', { pin }),
  lock: () => call<void>('lock'),
  changePin: (old: string, pin: string) => call<void>('change_pin', { old, new: pin }),
  giveConsent: () => call<Consent>('give_consent'),
  withdrawConsent: () => call<Consent>('withdraw_consent'),
  deleteLocalData: () => call<void>('delete_local_data', { confirm: true }),

  home: () => call<Home>('home'),
  alertDone: (key: string) => call<void>('alert_done', { key }),
  alertsNotified: (keys: string[]) => call<void>('alerts_notified', { keys }),

  addEntry: (entry: EntryInput, at?: string) => call<Saved>('add_entry', { entry, at: at ?? null }),
  correctEntry: (id: number, entry: EntryInput, at: string | null, reason: string | null) =>
    call<Saved>('correct_entry', { id, entry, at, reason }),
  deleteEntry: (id: number, reason: string | null) => call<Saved>('delete_entry', { id, reason }),
  entry: (id: number) => call<EntryView>('entry', { id }),
  entryHistory: (id: number) => call<EntryView[]>('entry_history', { id }),
  logbook: (until: string | null, days: number, kind: EntryKindName | null) =>
    call<Logbook>('logbook', { until, days, kind }),

  report: (days: number) => call<Report>('report', { days }),
  /** The one-page AGP report (PDF) of the last `days` days in `lang`, written to `path`; returns where. */
  reportPdf: (days: number, lang: string, path: string | null) => call<string>('report_pdf', { days, lang, path }),
  day: (date: string | null) => call<DayView>('day', { date }),
  series: (days: number) => call<Series>('series', { days }),
  prescription: () => call<PrescriptionView>('prescription'),
  observance: () => call<ObservanceView>('observance_view'),

  exportCsv: (path: string | null) => call<string>('export_csv', { path }),
  exportFhir: (path: string | null) => call<string>('export_fhir', { path }),
  importPreview: (path: string) => call<ImportPreview>('import_preview', { path }),
  importCommit: (path: string) => call<ImportOutcome>('import_commit', { path }),
  /** The ANS "Mesures de santé" feed: one FHIR transaction bundle per measurement (NDJSON). */
  exportFhirFeed: (path: string | null) => call<string>('export_fhir_feed', { path }),

  devices: () => call<DevicesView>('devices'),
  scanDevices: (seconds: number) => call<FoundDevice[]>('scan_devices', { seconds }),
  pairDevice: (address: string, name: string | null, kind: string) =>
    call<KnownDevice>('pair_device', { address, name, kind }),
  forgetDevice: (address: string) => call<void>('forget_device', { address }),
  downloadDevice: (address: string) => call<KnownDevice>('download_device', { address }),

  enrol: (code: string, server: string | null) => call<Enrolled>('enrol', { code, server }),
  syncNow: () => call<SyncView>('sync_now'),
  syncStatus: () => call<SyncView>('sync_status'),
  inbox: () => call<Inbox>('inbox'),
  messagesRead: (ids: number[]) => call<void>('messages_read', { ids }),
  rights: () => call<RightsView>('rights'),
};

export type Ipc = typeof ipc;
