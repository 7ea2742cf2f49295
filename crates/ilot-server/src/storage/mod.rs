//! Where the server keeps its data, behind one trait so that the backend is chosen at the edge
//! from the database URL (`sqlite:PATH` embedded, `postgres://…` for production with several
//! API nodes) and one conformance suite runs against every backend.
//!
//! Methods are blocking: handlers call them on the blocking pool. Each method is one
//! transaction, so that a node can die at any point without leaving half a batch; nothing here
//! evaluates rules or opens sealed messages (that is `ingest.rs` and `ilot-wire`).

mod consent_rows;
mod delegates;
pub mod identity;
mod patient_page;
mod postgres;
mod psc_rows;
mod record;
mod sqlite;
mod triage_rows;
mod types;

pub(crate) use consent_rows::consent_delegates;
pub use consent_rows::{
    AccessRow, ConsentEvent, ConsentSource, NewConsent, consent_of_device, latest, may_collect,
};
pub(crate) use delegates::{
    limits_delegates, psc_delegates, revocation_delegates, security_delegates,
};
pub(crate) use identity::identity_delegates;
pub use identity::{IdentityVersion, NewIdentityVersion};
pub(crate) use patient_page::patient_delegates;
pub use psc_rows::PscFlow;
pub(crate) use psc_rows::rpps_taken;
pub(crate) use record::record_delegates;
pub use record::{
    Closure, MonitoringGap, NamedGap, PurgeCounts, RecordStatus, Reopening, Restriction,
    RetentionCutoffs,
};

use chrono::{DateTime, Utc};
use ilot_domain::Prescription;
use ilot_wire::{
    Appointment, CareRole, CareTeamMember, DeviceId, Message, PatientId, PrescriptionUpdate,
    ServerSecret,
};

pub(crate) use postgres::postgres_message;
pub use postgres::{PostgresStorage, redact_url};
pub use sqlite::SqliteStorage;

pub use crate::atrest::ServerKey;
use crate::error::{Result, ServerError};
pub use crate::totp::TotpSecret;

/// Opens the storage named by `url`: `sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:`, or
/// `postgres://user[:password]@host[:port]/db` (also `postgresql://`), whose secrets are
/// sealed with `key` (kept outside the database: `crate::atrest`). A key that is not the
/// database's is refused before anything is read or written.
pub fn open(url: &str, key: &ServerKey) -> Result<Box<dyn Storage>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresStorage::open(url, key)?));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path == ":memory:" {
            return Ok(Box::new(SqliteStorage::open_in_memory(key)?));
        }
        return Ok(Box::new(SqliteStorage::open(
            std::path::Path::new(path),
            key,
        )?));
    }
    Err(ServerError::UnsupportedDatabase(redact_url(url)))
}

pub use crate::ratelimit::RateKey;
pub(crate) use triage_rows::triage_delegates;
pub use triage_rows::{GlucoseDay, ReviewRow};
pub use types::*;

/// Every backend implements this; `tests/it/conformance.rs` runs the same checks on each.
pub trait Storage: Send + Sync + 'static {
    /// The server's static key, made on first use and shared by every node of a deployment.
    fn server_secret(&self, fresh: ServerSecret) -> Result<ServerSecret>;

    fn create_operator(
        &self,
        username: &str,
        name: &str,
        role: CareRole,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64>;
    /// The operator who may log in under this name: a disabled one is `None`, like a
    /// missing one.
    fn operator_by_username(&self, username: &str) -> Result<Option<Operator>>;
    /// A new session, last used `now`, ending at `expires_at` at the latest.
    fn create_session(
        &self,
        token_hash: &[u8; 32],
        operator_id: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// The session's operator when the session is not expired, was last used after
    /// `idle_since` and its operator is not disabled; records `now` as its last use. One
    /// statement, so two nodes cannot revive an idle session.
    fn session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle_since: DateTime<Utc>,
    ) -> Result<Option<Operator>>;

    /// Creates the patient with prescription version 1 (which is also the first pull item).
    fn create_patient(
        &self,
        p: &NewPatient,
        id: PatientId,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<()>;
    fn patient(&self, id: PatientId) -> Result<Option<PatientRow>>;
    fn patients(&self) -> Result<Vec<PatientRow>>;

    fn add_enrolment_code(
        &self,
        code: &str,
        patient: PatientId,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Atomically checks the code (known, unused, unexpired), marks it used and registers the
    /// device; returns the patient.
    fn redeem_code(
        &self,
        code: &str,
        device: &DeviceRow,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PatientId, CodeRefusal>>;
    /// The device when it is enrolled and not revoked.
    fn device(&self, id: DeviceId) -> Result<Option<DeviceRow>>;

    /// Stores a batch in one transaction: the batch record (for replays), the new entry
    /// versions (deduplicated by device, entry id and version), the consent change.
    fn ingest(&self, batch: &IngestBatch<'_>) -> Result<IngestOutcome>;
    fn batch_ack(&self, device: DeviceId, seq: u64) -> Result<Option<StoredAck>>;

    /// Latest versions of the patient's entries whose time is in `[from, to)`, by time;
    /// deleted ones only with `include_deleted`.
    fn entries(
        &self,
        patient: PatientId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        include_deleted: bool,
    ) -> Result<Vec<ServerEntry>>;
    /// Entry versions stored for the patient (every version counts once).
    fn count_entry_versions(&self, patient: PatientId) -> Result<u64>;

    fn prescription(&self, patient: PatientId) -> Result<Option<PrescriptionUpdate>>;
    /// Records a new version (validated by the caller) and queues it for the device.
    fn set_prescription(
        &self,
        patient: PatientId,
        p: &Prescription,
        by: &CareTeamMember,
        now: DateTime<Utc>,
    ) -> Result<PrescriptionUpdate>;
    fn add_message(
        &self,
        patient: PatientId,
        from: &CareTeamMember,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Message>;
    fn add_appointment(&self, patient: PatientId, a: &Appointment) -> Result<Appointment>;
    /// Items after `since` (exclusive), at most `limit`; the cursor of the last one.
    fn feed(&self, patient: PatientId, since: u64, limit: u32) -> Result<Vec<(u64, FeedItem)>>;

    /// Inserts new alerts by key, updates the end of known ones; returns how many were new.
    fn upsert_alerts(
        &self,
        patient: PatientId,
        alerts: &[ilot_rules::alerts::Alert],
        now: DateTime<Utc>,
    ) -> Result<usize>;
    fn alerts(&self, patient: Option<PatientId>, open_only: bool) -> Result<Vec<AlertRow>>;
    fn alert(&self, id: i64) -> Result<Option<AlertRow>>;
    /// Acknowledges an alert and queues the acknowledgement for the device. `None` when the
    /// alert does not exist.
    fn acknowledge_alert(
        &self,
        id: i64,
        by: &CareTeamMember,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<AlertRow>>;

    /// A record of an operator's act, without client address or detail (see [`AuditEvent`]).
    fn audit(
        &self,
        operator_id: i64,
        action: &str,
        patient: Option<PatientId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.record_audit(&AuditEvent {
            operator_id: Some(operator_id),
            action: action.to_string(),
            patient_id: patient,
            client: None,
            detail: None,
            at: now,
            shown: Vec::new(),
        })
    }
    fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>>;

    // Failed-attempt counters shared by the nodes, and the audit record with client address
    // and detail (migration V3).

    /// Counts one attempt against every key in one transaction, unless one of them already
    /// used up its attempts in its window: then nothing is counted and the answer is
    /// `Some(seconds to wait)`. Closed windows are deleted first.
    fn count_attempt(&self, keys: &[RateKey], now: DateTime<Utc>) -> Result<Option<u64>>;
    /// Takes back one attempt of each key's open window (never below zero).
    fn forgive_attempt(&self, keys: &[RateKey], now: DateTime<Utc>) -> Result<()>;
    /// How many counter windows are stored (closed ones are deleted by the next count).
    fn rate_windows(&self) -> Result<u64>;
    /// Writes the record and, in the same transaction, its links to the patients a list read
    /// showed ([`AuditEvent::shown`], migration V13; a patient named twice is linked once).
    fn record_audit(&self, event: &AuditEvent) -> Result<()>;

    // Care teams and the operators' second factor (migration V2). An operator sees only the
    // patients of its team; a patient or operator without a team is seen by, and sees, nobody.

    /// Creates a care team; a name already taken is refused.
    fn create_team(&self, name: &str, now: DateTime<Utc>) -> Result<i64>;
    fn team_by_name(&self, name: &str) -> Result<Option<i64>>;
    fn set_operator_team(&self, operator_id: i64, team: i64) -> Result<()>;
    fn operator_team(&self, operator_id: i64) -> Result<Option<i64>>;
    fn set_patient_team(&self, patient: PatientId, team: i64) -> Result<()>;
    fn patient_team(&self, patient: PatientId) -> Result<Option<i64>>;
    /// The team's patients, in creation order.
    fn team_patients(&self, team: i64) -> Result<Vec<PatientId>>;
    /// The newest `limit` audit records written by operators of the team.
    fn team_audit_log(&self, team: i64, limit: u32) -> Result<Vec<AuditRow>>;
    /// Sets (or replaces) the operator's TOTP secret and forgets the last accepted step.
    fn set_totp_secret(&self, operator_id: i64, secret: &TotpSecret) -> Result<()>;
    fn totp_secret(&self, operator_id: i64) -> Result<Option<TotpSecret>>;
    /// Records `step` as used when it is after the last accepted one, atomically; `false`
    /// when it is not (a replayed or older code).
    fn accept_totp_step(&self, operator_id: i64, step: u64) -> Result<bool>;

    // Ending sessions and devices (migration V4), in each backend's `revocation.rs`.

    /// Ends one session (logout); `false` when it did not exist.
    fn end_session(&self, token_hash: &[u8; 32]) -> Result<bool>;
    /// Ends every session of the operator; how many there were.
    fn end_operator_sessions(&self, operator_id: i64) -> Result<u64>;
    /// The operator's id and whether it is disabled, by user name.
    fn operator_state(&self, username: &str) -> Result<Option<OperatorState>>;
    /// Disables the operator (`Some(now)`) and ends its sessions in the same transaction, or
    /// enables it again (`None`).
    fn set_operator_disabled(&self, operator_id: i64, at: Option<DateTime<Utc>>) -> Result<()>;
    /// Replaces the password hash and ends every session of the operator, in one transaction.
    fn set_password_hash(&self, operator_id: i64, password_hash: &str) -> Result<()>;
    /// The patient's devices in enrolment order, revoked ones included.
    fn patient_devices(&self, patient: PatientId) -> Result<Vec<DeviceInfo>>;
    fn device_info(&self, id: DeviceId) -> Result<Option<DeviceInfo>>;
    /// Revokes the device (the first revocation time is kept); `None` when it does not exist.
    fn revoke_device(&self, id: DeviceId, now: DateTime<Utc>) -> Result<Option<DeviceInfo>>;
    /// Makes every unused, unexpired code of the patient expire now; how many.
    fn cancel_enrolment_codes(&self, patient: PatientId, now: DateTime<Utc>) -> Result<u64>;
    /// A device, revoked or not, and whether it is revoked (in each backend's `reenrol.rs`).
    fn device_any(&self, id: DeviceId) -> Result<Option<(DeviceRow, bool)>>;
    /// [`Self::redeem_code`] replacing a revoked device of the code's patient (else nothing
    /// changes), whose entry versions become the new device's, in one transaction.
    fn redeem_code_replacing(
        &self,
        code: &str,
        device: &DeviceRow,
        replaces: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<PatientId, CodeRefusal>>;

    // The triage (migration V6), in each backend's `triage.rs`: daily glucose summaries
    // (written by `ingest`, see `crate::summary`) and review marks.

    /// The daily summaries of the team's patients whose local day starts at or after `since`,
    /// by patient then day.
    fn glucose_days(&self, team: i64, since: DateTime<Utc>) -> Result<Vec<GlucoseDay>>;
    /// Marks the patient reviewed by the operator now.
    fn add_review(
        &self,
        patient: PatientId,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<ReviewRow>;
    /// Undoes the operator's latest review of the patient that is not undone yet; `None` when
    /// there is none.
    fn undo_review(
        &self,
        patient: PatientId,
        operator_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<ReviewRow>>;
    /// The reviews (not undone) of the team's patients made at or after `since`, newest first.
    fn team_reviews(&self, team: i64, since: DateTime<Utc>) -> Result<Vec<ReviewRow>>;
    /// The latest prescription of each of the team's patients.
    fn team_prescriptions(&self, team: i64) -> Result<Vec<(PatientId, PrescriptionUpdate)>>;
    /// The triage's cached observance of the patient: (local day, prescription version, JSON).
    fn observance_cache(
        &self,
        patient: PatientId,
    ) -> Result<Option<(chrono::NaiveDate, u32, String)>>;
    fn set_observance_cache(
        &self,
        patient: PatientId,
        day: chrono::NaiveDate,
        rx_version: u32,
        json: &str,
    ) -> Result<()>;

    // The patient page (`crate::patient`), in each backend's `patient.rs`.

    /// Latest versions (deleted ones included) of the patient's entries strictly before
    /// `before` in (time, device, entry id) order, newest first, at most `limit`.
    fn entries_before(
        &self,
        patient: PatientId,
        before: Option<EntryCursor>,
        limit: u32,
    ) -> Result<Vec<ServerEntry>>;
    /// Every stored version of one of the patient's entries, oldest first (empty when the
    /// entry is not the patient's).
    fn entry_versions(
        &self,
        patient: PatientId,
        device: DeviceId,
        entry_id: i64,
    ) -> Result<Vec<ServerEntry>>;
    /// The audit records about the patient, and the list reads that showed the patient (V13),
    /// each once, with the name of the operator who made each, newest first, ids below
    /// `before`, at most `limit`.
    fn patient_audit(
        &self,
        patient: PatientId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(AuditRow, Option<String>)>>;
    /// Records that the device applied the patient's feed up to `cursor` (the `since` of its
    /// pull); a lower number than the one recorded changes nothing (migration V7).
    fn record_pull(&self, device: DeviceId, cursor: u64) -> Result<()>;
    /// The highest feed cursor any of the patient's devices confirmed it applied.
    fn pulled_cursor(&self, patient: PatientId) -> Result<Option<u64>>;
    /// Every version of the patient's identity, oldest first (V8; empty when none was entered).
    fn identity_versions(&self, patient: PatientId) -> Result<Vec<IdentityVersion>>;
    /// Every patient whose current identity version is *qualifiée*, with that identity (one
    /// query: the lists show the qualified INS of each row).
    fn qualified_identities(&self) -> Result<Vec<(PatientId, ilot_domain::ins::Identity)>>;
    /// Appends version `after + 1` in one statement; `None`, nothing written, when the current
    /// version is not `after` (another professional changed it meanwhile).
    fn add_identity_version(&self, v: &NewIdentityVersion<'_>) -> Result<Option<IdentityVersion>>;

    // Pro Santé Connect (`crate::psc`, migration V9), in each backend's `psc.rs`.

    /// Keeps a login flow under the SHA-256 of its `state` (and forgets the expired ones).
    fn psc_begin(&self, state_hash: &[u8; 32], flow: &PscFlow, now: DateTime<Utc>) -> Result<()>;
    /// Takes the flow of `state` out, once: `None` when unknown, already taken or expired.
    fn psc_take(&self, state_hash: &[u8; 32], now: DateTime<Utc>) -> Result<Option<PscFlow>>;
    /// Links an RPPS number to an operator, once: refused (400) when the RPPS is already
    /// linked to an operator or the operator already has one.
    fn link_rpps(&self, operator_id: i64, rpps: &str, now: DateTime<Utc>) -> Result<()>;
    /// Removes the operator's RPPS link (a number linked by mistake, a card given back):
    /// answers the RPPS it held, `None` when it had none. The RPPS can then be linked again.
    fn unlink_rpps(&self, operator_id: i64) -> Result<Option<String>>;
    /// The enabled operator the RPPS is linked to.
    fn operator_by_rpps(&self, rpps: &str) -> Result<Option<Operator>>;
    /// The RPPS linked to the operator, if any.
    fn rpps_of(&self, operator_id: i64) -> Result<Option<String>>;
    // The record's life (migration V10), in each backend's `record.rs`.

    /// The patient's closure and restriction (both `None` when neither was recorded).
    fn record_status(&self, patient: PatientId) -> Result<RecordStatus>;
    /// Every patient whose record is closed or restricted.
    fn record_statuses(&self) -> Result<Vec<(PatientId, RecordStatus)>>;
    /// Closes the patient's telesurveillance and makes its unused enrolment codes expire, in
    /// one transaction; `false` (nothing changed) when it was already closed.
    fn close_monitoring(&self, patient: PatientId, closure: &Closure) -> Result<bool>;
    /// Reopens a closed record (V12): moves its closure (and last care) into a [`MonitoringGap`]
    /// in one transaction; `None` when not closed. The gaps: oldest first.
    fn reopen_monitoring(&self, id: PatientId, r: &Reopening) -> Result<Option<MonitoringGap>>;
    fn monitoring_gaps(&self, patient: PatientId) -> Result<Vec<MonitoringGap>>;
    /// The gaps with who closed and who reopened the record (name and role), oldest first.
    fn monitoring_history(&self, patient: PatientId) -> Result<Vec<NamedGap>>;
    /// Records a restriction (`Some`) or lifts it (`None`).
    fn set_restriction(&self, patient: PatientId, restriction: Option<&Restriction>) -> Result<()>;
    /// Deletes, in one transaction, every closed record whose last care is before
    /// `cutoffs.care_before` (the patient and all its rows) and the device traceability
    /// (batch records, enrolment codes, ended devices) last used before `cutoffs.trace_before`,
    /// and writes one audit record of the counts (none when nothing was deleted). A
    /// restriction changes nothing to it.
    fn purge_expired(&self, cutoffs: &RetentionCutoffs, now: DateTime<Utc>) -> Result<PurgeCounts>;

    // The consent history and the access log (migration V11), in each backend's `consent.rs`.

    /// Adds a decision to the patient's history and makes it the patient's consent state when
    /// it is the latest in time, in one transaction.
    fn record_consent(
        &self,
        patient: PatientId,
        c: &NewConsent,
        now: DateTime<Utc>,
    ) -> Result<ConsentEvent>;
    /// The patient's consent history in time order (then in recording order).
    fn consent_history(&self, patient: PatientId) -> Result<Vec<ConsentEvent>>;
    /// The audit records of operators about the patient, and the list reads that showed it
    /// ([`AuditEvent::shown`], once each), with an id above `after` and a time at or after
    /// `since`, in id order, at most `limit`, with the operator as the patient sees it.
    fn access_log(
        &self,
        patient: PatientId,
        after: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AccessRow>>;
}
