//! The rows the storage reads and writes (operators, patients, devices, batches, entries,
//! alerts, feed items, audit records), shared by both backends.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ilot_domain::{Entry, Prescription};
use ilot_wire::{
    Appointment, BatchDigest, CareRole, CareTeamMember, ConsentChange, DeviceId, Message,
    PatientId, PrescriptionUpdate, PublicKey, WireEntry,
};
use serde::{Deserialize, Serialize};

/// A care-team member who may log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: CareRole,
    /// PHC string (argon2id); never leaves the server.
    pub password_hash: String,
}

impl Operator {
    pub fn member(&self) -> CareTeamMember {
        CareTeamMember {
            name: self.name.clone(),
            role: self.role,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPatient {
    pub pseudonym: String,
    pub ins: Option<String>,
    pub tz: Tz,
    pub prescription: Prescription,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientRow {
    pub id: PatientId,
    pub pseudonym: String,
    pub ins: Option<String>,
    pub tz: Tz,
    pub created_at: DateTime<Utc>,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Last time entries were received from any of the patient's devices.
    pub last_data_at: Option<DateTime<Utc>>,
    /// `None` until the device sent its consent; `Some(false)` once withdrawn.
    pub consent_granted: Option<bool>,
    pub consent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub patient_id: PatientId,
    pub public_key: PublicKey,
    pub label: Option<String>,
    pub enrolled_at: DateTime<Utc>,
    /// Highest batch sequence number accepted (`None` before the first batch).
    pub last_batch_seq: Option<u64>,
}

/// A device as the care team sees it, revoked ones included (never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub id: DeviceId,
    pub patient_id: PatientId,
    /// What the app said it runs on ("Android phone"); no hardware identifier.
    pub label: Option<String>,
    pub enrolled_at: DateTime<Utc>,
    /// When a batch of this device was last stored.
    pub last_push_at: Option<DateTime<Utc>>,
    /// Set once: from then on its pushes and pulls are refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An operator's account state, disabled ones included (for administration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorState {
    pub id: i64,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Why a code could not be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Unknown,
    Expired,
    Used,
    /// Re-enrolment in place (the code stays usable): another patient's device, not revoked, none.
    OtherPatient,
    StillEnrolled,
    ReplacedUnknown,
}

/// What the server answered to a batch; kept so that a retry gets the same answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAck {
    pub digest: BatchDigest,
    pub stored: u32,
    pub duplicates: u32,
    pub received_at: DateTime<Utc>,
}

/// What [`Storage::ingest`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    Stored(StoredAck),
    /// A batch with this number was already accepted (by this or another node): its answer.
    AlreadyAccepted(StoredAck),
    /// The device's last accepted batch is at or beyond this number and it is not stored
    /// (another node moved on meanwhile).
    Stale {
        last_accepted: u64,
    },
    /// Consent is withdrawn: nothing was stored.
    ConsentWithdrawn,
    /// The patient's telesurveillance ended (closure, migration V10) before `now`: nothing
    /// was stored.
    MonitoringEnded,
    /// The device was revoked (or is not this patient's): nothing was stored.
    DeviceRevoked,
}

/// One batch to store, already opened and validated.
#[derive(Debug)]
pub struct IngestBatch<'a> {
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    pub seq: u64,
    pub digest: BatchDigest,
    pub items: &'a [WireEntry],
    pub consent: Option<ConsentChange>,
    pub now: DateTime<Utc>,
}

/// The latest version of one entry as the server holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerEntry {
    pub device_id: DeviceId,
    pub entry_id: i64,
    pub version: u32,
    pub deleted: bool,
    pub recorded_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub entry: Entry,
}

/// Where a page of a patient's entries going back in time stops: the (time, device, entry id)
/// of its last entry, which the next page starts strictly before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryCursor {
    pub at: DateTime<Utc>,
    pub device_id: DeviceId,
    pub entry_id: i64,
}

/// An alert as stored: the rules' alert plus its acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub patient_id: PatientId,
    pub key: String,
    pub kind: String,
    pub severity: String,
    /// 0 info, 1 warning, 2 urgent: what triage sorts by.
    pub severity_rank: u8,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub detail: serde_json::Value,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
}

/// Something the care team changed for a patient, in the order the device must apply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedItem {
    Prescription(PrescriptionUpdate),
    Message(Message),
    Appointment(Appointment),
    AlertAck(ilot_wire::AlertAck),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    /// `None` when nobody was logged in: a failed login under an unknown name, a device's
    /// enrolment.
    pub operator_id: Option<i64>,
    pub action: String,
    pub patient_id: Option<PatientId>,
    pub at: DateTime<Utc>,
    /// Who asked: the client's address (`… via <proxy>` behind a trusted proxy), or `cli:<user>`
    /// for the `ilot operator` commands. `None` for records written before migration V3.
    pub client: Option<String>,
    /// What else the record needs to be useful: the patients a list returned, why a login failed.
    pub detail: Option<serde_json::Value>,
}

/// One record to add to the audit log (see [`crate::audit`] for the helpers handlers use).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub operator_id: Option<i64>,
    pub action: String,
    pub patient_id: Option<PatientId>,
    pub client: Option<String>,
    pub detail: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
    /// The patients a list read showed (the triage list, the patient list, the team's alerts,
    /// the billing table), written as `audit_patients` links (V13) in the same transaction as
    /// the record, so that each patient's access log holds the read. The record's `detail`
    /// keeps its `patients` list too (see [`AuditEvent::shows`]).
    pub shown: Vec<PatientId>,
}
