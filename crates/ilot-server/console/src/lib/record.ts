// The record's life as the server gives it (`record` of the patient's page, and the answer of
// closure, reopening and restriction): `crates/ilot-server/src/record.rs`.
import type { CareTeamMember } from './api';

/** The end of telesurveillance, as a physician recorded it. */
export interface Closure {
  last_day: string;
  ends_at: string;
  reason: string;
  by: number;
  recorded_at: string;
  last_care_at: string;
}

/** An erasure request kept as a restriction: the record is kept but not read. */
export interface Restriction {
  at: string;
  by: number;
  reason: string;
}

/** A past interruption of the telesurveillance (a closure undone by a reopening); days in the
 *  patient's zone; `until` equals `from` when reopened before the last day ended; a member
 *  `null` when the server no longer knows the operator. */
export interface Interruption {
  last_day: string;
  first_day_off: string;
  from: string;
  until: string;
  reopened_on: string;
  closure_reason: string;
  closed_by: CareTeamMember | null;
  closure_recorded_at: string;
  reopen_reason: string;
  reopened_by: CareTeamMember | null;
}

export interface RecordStatus {
  closure: Closure | null;
  restriction: Restriction | null;
  interruptions: Interruption[]; // oldest first
}
