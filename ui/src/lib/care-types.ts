// What the care team sends and the patient's rights as the shell's commands answer them
// (src-tauri/src/commands): messages, appointments, the consent history the server holds and
// who read the data. Re-exported by ipc.ts, the one module the screens import.
import type { Consent } from './ipc';

export type CareRole = 'physician' | 'nurse';
export interface Member {
  name: string;
  role: CareRole;
}
export interface MessageView {
  id: number;
  from: Member;
  text: string;
  sent_at: string;
  read: boolean;
}
export type AppointmentMode =
  | { 'in-person': { place: string | null } }
  | { video: { link: string | null } }
  | 'phone';
export interface AppointmentView {
  id: number;
  kind: 'education' | 'consultation';
  starts_at: string;
  duration_min: number;
  mode: AppointmentMode;
  with: Member | null;
  topic: string | null;
  cancelled: boolean;
  upcoming: boolean;
}
export interface Inbox {
  messages: MessageView[];
  appointments: AppointmentView[];
  unread: number;
}
/** ilot-wire `ConsentRecord`: one decision of the history the server holds. */
export interface ConsentRecord {
  id: number;
  decision: 'given' | 'refused' | 'withdrawn';
  at: string;
  notice_version: number | null;
  channel: 'app' | 'consultation';
  collected_by: Member | null;
}
/** ilot-wire `AccessEntry`: an act of the care team on the patient's data. */
export interface AccessEntry {
  id: number;
  at: string;
  by: Member;
  /** The server's action code (`read-entries`, `send-message`, …). */
  action: string;
}
export interface RightsView {
  consent: Consent | null;
  history: ConsentRecord[];
  notice_version: number;
  /** Newest first, last 12 months. */
  access_log: AccessEntry[];
}
