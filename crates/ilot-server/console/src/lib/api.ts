// Every call to the server goes through here. The session is an HttpOnly cookie the page never
// sees; state-changing calls carry the session's CSRF token (X-CSRF-Token), which the server
// gives at login and from GET /v1/console/session. Types mirror the server's JSON
// (crates/ilot-server/src/triage.rs, console.rs; documented in /openapi.json).

import type { TirShares } from '@ui/lib/tir';
import type { AgpPoint, Metrics as FullMetrics, Prescription, Reading, Target } from '@ui/lib/ipc';
import type { RecordStatus } from './record';

export type Role = 'physician' | 'nurse';

export interface Session {
  name: string;
  role: Role;
  csrf_token: string;
}

export type Category =
  | 'urgent-alert'
  | 'no-data'
  | 'very-low'
  | 'low'
  | 'tir-drop'
  | 'low-tir'
  | 'cgm-wear'
  | 'capillary-readings'
  | 'on-target';

export const CATEGORIES: readonly Category[] = [
  'urgent-alert',
  'no-data',
  'very-low',
  'low',
  'tir-drop',
  'low-tir',
  'cgm-wear',
  'capillary-readings',
  'on-target',
];

export interface Thresholds {
  below_54_percent: number;
  below_70_percent: number;
  tir_drop_points: number;
  tir_drop_previous_days: number;
  tir_percent: number;
  cgm_active_percent: number;
}

export interface Metrics extends TirShares {
  n_readings: number;
  gmi_percent: number | null;
  cv_percent: number | null;
  active_percent: number | null;
  below_70_percent: number | null;
}

export interface Period {
  number: number;
  first_day: string;
  last_day: string;
  expected: number;
  received: number;
  ratio: number;
  status: string;
  billable: boolean;
  not_billable: string | null;
}

export interface TriageItem {
  patient_id: string;
  pseudonym: string;
  ins: string | null;
  category: Category;
  last_data_at: string | null;
  transmitting: boolean;
  monitoring: 'capillary' | 'flash' | 'cgm';
  open_alerts: number;
  worst_alert: string | null;
  metrics: Metrics;
  previous_tir_percent: number | null;
  capillary_per_day: number;
  expected_readings_per_day: number;
  period: Period | null;
  /** The period's first local day and the day after its last. */
  window_from: string;
  window_to: string;
  last_review: LastReview | null;
  /** The last day of monitoring once the telesurveillance ended (listed with `closed`). */
  closed_on?: string | null;
}

export interface LastReview {
  by: string;
  at: string;
  /** Made by the operator logged in. */
  mine: boolean;
}

export interface Review {
  id: number;
  patient_id: string;
  operator_id: number;
  by: string;
  at: string;
}

export interface TriageFilters {
  category: Category | null;
  /** No review mark in the last 7 days. */
  notReviewed: boolean;
  /** The patients the operator marked reviewed in the last 90 days. */
  mine: boolean;
  /** The patients whose telesurveillance ended ("clôturés"), hidden otherwise. */
  closed?: boolean;
}

export const NO_FILTERS: TriageFilters = { category: null, notReviewed: false, mine: false };

export interface TriagePage {
  as_of: string;
  days: number;
  thresholds: Thresholds;
  total: number;
  items: TriageItem[];
  next_cursor: string | null;
}

/** A refusal from the server: HTTP status, its error code and (English) message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

let csrf = '';

/** Called when a call finds the session gone (expired, revoked). */
let onExpired: () => void = () => {};

export function whenExpired(f: () => void): void {
  onExpired = f;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json: unknown = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const e = (json ?? {}) as { error?: string; message?: string; retry_after_s?: number };
    // A data call refused for the session: it ended (expired, revoked elsewhere). The console's
    // own session calls (login, "who is logged in?") answer 401 in the normal course.
    if (r.status === 401 && !path.startsWith('/v1/console/')) onExpired();
    throw new ApiError(r.status, e.error ?? 'unknown', e.message ?? r.statusText, e.retry_after_s ?? null);
  }
  return json as T;
}

export async function login(username: string, password: string, totp: string): Promise<Session> {
  const s = await call<Session>('POST', '/v1/console/login', { username, password, totp });
  csrf = s.csrf_token;
  return s;
}

/** The ways to log in this server offers (`psc`: Pro Santé Connect is configured). */
export interface LoginOptions {
  psc: boolean;
}

export function loginOptions(): Promise<LoginOptions> {
  return call<LoginOptions>('GET', '/v1/console/login-options');
}

/** Where the browser goes to log in with Pro Santé Connect (a full-page navigation). */
export const PSC_START = '/v1/console/psc/start';

/**
 * Why the server refused a Pro Santé Connect login (`?psc_error=` on its way back to the
 * console), or null. The kinds are those of the server's `psc.rs`.
 */
export function pscError(search: string): string | null {
  const kind = new URLSearchParams(search).get('psc_error');
  return kind && /^[a-z_]{1,32}$/.test(kind) ? kind : null;
}

/** The current session from the cookie, or null when there is none. */
export async function currentSession(): Promise<Session | null> {
  try {
    const s = await call<Session>('GET', '/v1/console/session');
    csrf = s.csrf_token;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function logout(): Promise<void> {
  await call('POST', '/v1/console/logout');
  csrf = '';
}

export function triage(
  days: number,
  cursor: string | null,
  filters: TriageFilters = NO_FILTERS,
  limit = 50,
): Promise<TriagePage> {
  const q = new URLSearchParams({ days: String(days), limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  if (filters.category) q.set('category', filters.category);
  if (filters.notReviewed) q.set('not_reviewed', 'true');
  if (filters.mine) q.set('mine', 'true');
  if (filters.closed) q.set('closed', 'true');
  return call<TriagePage>('GET', `/v1/operator/triage?${q.toString()}`);
}

// ---- Observance per period and billing (crates/ilot-server/src/billing.rs) -----------------

export type Reason =
  | 'no-prescription'
  | 'no-consent'
  | 'not-monitored'
  | 'in-progress'
  | 'interrupted'
  | 'previous-insufficient'
  | 'previous-interrupted'
  | 'no-accompaniment';

export interface Series {
  number: number;
  first_period: number;
  last_period: number;
  from: string;
  to: string;
}

export interface BillingPeriod {
  number: number;
  first_day: string;
  last_day: string;
  prescribed: boolean;
  expected: number;
  received: number;
  ratio: number | null;
  status: string | null;
  billable: boolean;
  reasons: Reason[];
  series: number | null;
}

export type Accompaniment =
  | { status: 'done'; first_session: string }
  | { status: 'due'; by: string }
  | { status: 'missed' };

export interface PatientPeriods {
  patient_id: string;
  pseudonym: string;
  as_of: string;
  prescribed: boolean;
  periods: BillingPeriod[];
  series: Series[];
  accompaniment: Accompaniment | null;
}

export interface Forfait {
  kind: 'operator' | 'technical';
  code: string | null;
  amount_cents: number;
}

export interface BillingRow extends Omit<BillingPeriod, 'series'> {
  patient_id: string;
  pseudonym: string;
  ins: string | null;
  series: Series | null;
  operator_cents: number;
  technical_cents: number;
}

export interface BillingMonth {
  month: string;
  as_of: string;
  forfaits: Forfait[];
  rows: BillingRow[];
  totals: { periods: number; billable: number; operator_cents: number; technical_cents: number };
}

export function patientPeriods(id: string): Promise<PatientPeriods> {
  return call<PatientPeriods>('GET', `/v1/operator/patients/${encodeURIComponent(id)}/periods`);
}

export function billingMonth(month: string): Promise<BillingMonth> {
  return call<BillingMonth>('GET', `/v1/operator/billing?${new URLSearchParams({ month }).toString()}`);
}

/** The CSV of `month`: a plain GET with the session cookie, so the browser downloads it. */
export function billingCsvUrl(month: string): string {
  return `/v1/operator/billing.csv?${new URLSearchParams({ month }).toString()}`;
}

/** "Marquer comme revu": the caller reviewed the patient now. */
export function markReviewed(patient: string): Promise<Review> {
  return call<Review>('POST', `/v1/operator/patients/${encodeURIComponent(patient)}/review`);
}

/** Undoes the caller's latest review mark of the patient. */
export function undoReview(patient: string): Promise<Review> {
  return call<Review>('DELETE', `/v1/operator/patients/${encodeURIComponent(patient)}/review`);
}

// ---- The patient page (crates/ilot-server/src/patient/, operator.rs) -------------------------

export type { AgpPoint, FullMetrics, Prescription, Reading, Target };

export interface PatientRow {
  id: string;
  pseudonym: string;
  ins: string | null;
  tz: string;
  created_at: string;
  enrolled_at: string | null;
  last_data_at: string | null;
  consent_granted: boolean | null;
  consent_at: string | null;
}

export interface CareTeamMember {
  name: string;
  role: Role;
}

export interface PrescriptionUpdate {
  version: number;
  prescription: Prescription;
  changed_at: string;
  changed_by: CareTeamMember;
}

export type { Closure, Interruption, RecordStatus, Restriction } from './record';

export interface PatientView {
  patient: PatientRow;
  prescription: PrescriptionUpdate | null;
  record?: RecordStatus;
}

export interface Summary {
  as_of: string;
  days: number;
  from: string;
  to: string;
  tz: string;
  monitoring: 'capillary' | 'flash' | 'cgm' | null;
  pregnancy: boolean;
  target: Target;
  agp: AgpPoint[];
  metrics: FullMetrics;
  previous: FullMetrics;
}

export interface DayPoint extends Reading {
  at: string;
  cgm: boolean;
}

export interface DayEvent {
  at: string;
  kind: 'insulin' | 'carbs' | 'hypo' | 'activity';
  amount: number | null;
  detail: string | null;
}

export interface DayView {
  date: string;
  from: string;
  to: string;
  glucose: DayPoint[];
  events: DayEvent[];
}

export interface DaysPage {
  tz: string;
  target: Target;
  days: DayView[];
  earlier: string | null;
}

/** A glucose as given: value and unit as entered. */
export interface GivenGlucose {
  value: number;
  unit: 'g/L' | 'mg/dL' | 'mmol/L';
}

/** The domain entry (`ilot_domain::Entry`), as stored: values as entered. */
export interface DomainEntry {
  at: string;
  source: { kind: string; device: string | null; record_number: number | null };
  kind: { type: string } & Record<string, unknown>;
}

export interface LogbookItem {
  device_id: string;
  entry_id: number;
  version: number;
  deleted: boolean;
  at: string;
  kind: string;
  recorded_at: string;
  received_at: string;
  entry: DomainEntry;
  history: { version: number; deleted: boolean; recorded_at: string; entry: DomainEntry }[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Message {
  id: number;
  from: CareTeamMember;
  text: string;
  sent_at: string;
}

export interface Appointment {
  id: number;
  version: number;
  kind: 'education' | 'consultation';
  starts_at: string;
  duration_min: number;
  mode: Record<string, unknown> | string;
  with: CareTeamMember | null;
  topic: string | null;
  cancelled: boolean;
}

/** An appointment as the console sets it (`id` and `cancelled` to change or cancel one). */
export interface NewAppointment {
  id?: number;
  kind: Appointment['kind'];
  starts_at: string;
  duration_min: number;
  mode: 'phone' | { 'in-person': { place: string | null } } | { video: { link: string | null } };
  topic: string | null;
  cancelled?: boolean;
}

export type FeedKind = 'message' | 'appointment' | 'prescription' | 'alert-ack';

export interface FeedEntry {
  cursor: number;
  item: {
    message?: Message;
    appointment?: Appointment;
    prescription?: PrescriptionUpdate;
    alert_ack?: { alert_key: string; acknowledged_at: string; by: CareTeamMember; note: string | null };
  };
  delivered: boolean;
}

export interface Alert {
  id: number;
  patient_id: string;
  key: string;
  kind: string;
  severity: 'info' | 'warning' | 'urgent';
  started_at: string;
  ended_at: string | null;
  detail: Record<string, unknown>;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
}

export interface Device {
  id: string;
  patient_id: string;
  label: string | null;
  enrolled_at: string;
  last_push_at: string | null;
  revoked_at: string | null;
}

export interface AccessRow {
  id: number;
  at: string;
  action: string;
  operator_id: number | null;
  operator: string | null;
  client: string | null;
  detail: unknown;
}

export type ConsentDecision = 'given' | 'refused' | 'withdrawn';
export interface ConsentEvent {
  id: number;
  decision: ConsentDecision;
  at: string;
  notice_version: number | null;
  channel: 'app' | 'consultation';
  collected_by: { name: string; role: 'physician' | 'nurse' } | null;
  operator_id: number | null;
  device_id: string | null;
  recorded_at: string;
}
export interface ConsentPage {
  current: ConsentEvent | null;
  history: ConsentEvent[];
  notice_version: number;
}

const P = (id: string) => `/v1/operator/patients/${encodeURIComponent(id)}`;

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const patientApi = {
  patient: (id: string) => call<PatientView>('GET', P(id)),
  summary: (id: string, days: number) => call<Summary>('GET', `${P(id)}/summary${query({ days })}`),
  days: (id: string, until: string | null, days = 7) =>
    call<DaysPage>('GET', `${P(id)}/days${query({ until, days })}`),
  logbook: (id: string, cursor: string | null, limit = 50) =>
    call<Page<LogbookItem>>('GET', `${P(id)}/logbook${query({ cursor, limit })}`),
  feed: (id: string, kind: FeedKind, cursor: string | null, limit = 200) =>
    call<Page<FeedEntry>>('GET', `${P(id)}/feed${query({ kind, cursor, limit })}`),
  alerts: (id: string) => call<Alert[]>('GET', `${P(id)}/alerts`),
  acknowledge: (alert: number, note: string | null) =>
    call<Alert>('POST', `/v1/operator/alerts/${alert}/ack`, { note }),
  send: (id: string, text: string) => call<Message>('POST', `${P(id)}/messages`, { text }),
  appointment: (id: string, a: NewAppointment) => call<Appointment>('POST', `${P(id)}/appointments`, a),
  setPrescription: (id: string, prescription: Prescription) =>
    call<{ version: number; policy_version: number }>('PUT', `${P(id)}/prescription`, { prescription }),
  devices: (id: string) => call<Device[]>('GET', `${P(id)}/devices`),
  consent: (id: string) => call<ConsentPage>('GET', `${P(id)}/consent`),
  recordConsent: (id: string, decision: ConsentDecision, notice_version: number, at: string | null) =>
    call<ConsentEvent>('POST', `${P(id)}/consent`, at ? { decision, notice_version, at } : { decision, notice_version }),
  audit: (id: string, cursor: string | null) =>
    call<Page<AccessRow>>('GET', `${P(id)}/audit${query({ cursor, limit: 50 })}`),
  close: (id: string, lastDay: string, reason: string) =>
    call<RecordStatus>('POST', `${P(id)}/closure`, { last_day: lastDay, reason }),
  reopen: (id: string, reason: string) => call<RecordStatus>('POST', `${P(id)}/reopening`, { reason }),
  restrict: (id: string, restricted: boolean, reason: string) =>
    call<RecordStatus>('PUT', `${P(id)}/restriction`, { restricted, reason }),
};

/** Every page of a feed kind (a patient's thread is short; each page is bounded). */
export async function wholeFeed(id: string, kind: FeedKind): Promise<FeedEntry[]> {
  const out: FeedEntry[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const p: Page<FeedEntry> = await patientApi.feed(id, kind, cursor);
    out.push(...p.items);
    if (!p.next_cursor) break;
    cursor = p.next_cursor;
  }
  return out;
}
