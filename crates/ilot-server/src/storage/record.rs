//! The record's life (migration V10): the end of telesurveillance (closure), the restriction
//! that answers an erasure request, and what the retention pass removes. Types of the
//! [`super::Storage`] methods and the macro forwarding them to each backend's `rec_*` methods
//! (in its `record.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use ilot_wire::CareTeamMember;
use serde::Serialize;

/// The end of a patient's telesurveillance, as the physician recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    /// The last day of monitoring, in the patient's time zone.
    pub last_day: NaiveDate,
    /// The end of that day: from this instant nothing more is accepted from the devices and no
    /// billing period starts.
    pub ends_at: DateTime<Utc>,
    pub reason: String,
    /// The operator who closed it.
    pub by: i64,
    pub recorded_at: DateTime<Utc>,
    /// The last care act, from which the 20-year retention counts (the end of monitoring).
    pub last_care_at: DateTime<Utc>,
}

/// A reopening of a telesurveillance ended by mistake (migration V12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopening {
    pub at: DateTime<Utc>,
    /// The physician who reopened it.
    pub by: i64,
    pub reason: String,
}

/// The time a reopened record was not monitored: from the end of the closure's last day to the
/// reopening, with the closure it undid and who reopened it, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringGap {
    /// The closure's last day of monitoring (patient's zone).
    pub last_day: NaiveDate,
    /// The end of that day: the first instant not monitored.
    pub from: DateTime<Utc>,
    /// The reopening (never before `from`: a record reopened before its last day ended was
    /// monitored throughout).
    pub until: DateTime<Utc>,
    pub closure_reason: String,
    pub closed_by: i64,
    pub closure_recorded_at: DateTime<Utc>,
    pub reopened_by: i64,
    pub reopen_reason: String,
}

/// A [`MonitoringGap`] as the care team reads it: who closed and who reopened the record by
/// name and role (`None` for an operator the server no longer knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedGap {
    pub gap: MonitoringGap,
    pub closed_by: Option<CareTeamMember>,
    pub reopened_by: Option<CareTeamMember>,
}

/// A patient's erasure request turned into a restriction (GDPR art. 18): kept, not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restriction {
    pub at: DateTime<Utc>,
    /// The physician who recorded it.
    pub by: i64,
    pub reason: String,
}

/// Where a patient's record stands; both `None` for a record in ordinary use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordStatus {
    pub closure: Option<Closure>,
    pub restriction: Option<Restriction>,
}

impl RecordStatus {
    pub fn is_closed(&self) -> bool {
        self.closure.is_some()
    }

    pub fn is_restricted(&self) -> bool {
        self.restriction.is_some()
    }
}

/// The limits of a retention pass: what ended before them is past its retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionCutoffs {
    /// A closed record whose last care is before this instant is deleted whole.
    pub care_before: DateTime<Utc>,
    /// Device traceability (sync batch records, enrolment codes, ended devices) whose last use
    /// is before this instant is deleted.
    pub trace_before: DateTime<Utc>,
}

/// What one retention pass deleted: counts of rows, never their content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeCounts {
    pub patients: u64,
    pub entries: u64,
    pub alerts: u64,
    pub feed: u64,
    pub prescriptions: u64,
    pub glucose_days: u64,
    pub reviews: u64,
    pub devices: u64,
    pub batches: u64,
    pub enrolment_codes: u64,
    /// Versions of the INS identity (V8) and consent decisions (V11) of the deleted records.
    pub identity_versions: u64,
    pub consent_events: u64,
}

impl PurgeCounts {
    pub fn total(&self) -> u64 {
        self.patients
            + self.entries
            + self.alerts
            + self.feed
            + self.prescriptions
            + self.glucose_days
            + self.reviews
            + self.devices
            + self.batches
            + self.enrolment_codes
            + self.identity_versions
            + self.consent_events
    }
}

/// The record methods of [`Storage`], forwarded to each backend's `rec_*` methods.
macro_rules! record_delegates {
    () => {
        fn record_status(&self, patient: PatientId) -> Result<super::RecordStatus> {
            self.rec_status(patient)
        }
        fn record_statuses(&self) -> Result<Vec<(PatientId, super::RecordStatus)>> {
            self.rec_statuses()
        }
        fn close_monitoring(&self, patient: PatientId, closure: &super::Closure) -> Result<bool> {
            self.rec_close(patient, closure)
        }
        fn reopen_monitoring(
            &self,
            patient: PatientId,
            r: &super::Reopening,
        ) -> Result<Option<super::MonitoringGap>> {
            self.rec_reopen(patient, r)
        }
        fn monitoring_gaps(&self, patient: PatientId) -> Result<Vec<super::MonitoringGap>> {
            self.rec_gaps(patient)
        }
        fn monitoring_history(&self, patient: PatientId) -> Result<Vec<super::NamedGap>> {
            self.rec_history(patient)
        }
        fn set_restriction(
            &self,
            patient: PatientId,
            restriction: Option<&super::Restriction>,
        ) -> Result<()> {
            self.rec_set_restriction(patient, restriction)
        }
        fn purge_expired(
            &self,
            cutoffs: &super::RetentionCutoffs,
            now: DateTime<Utc>,
        ) -> Result<super::PurgeCounts> {
            self.rec_purge(cutoffs, now)
        }
    };
}
pub(crate) use record_delegates;
