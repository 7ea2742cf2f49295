//! Writing the audit log: who (an operator, or nobody yet: a failed login, a device's
//! enrolment, an administrator at the command line), what, about which patient, from which
//! client address, with a detail (the patients a list returned, why a login failed). One
//! builder so that every caller writes the same fields:
//!
//! ```
//! # use ilot_server::storage::AuditEvent;
//! # let (now, operator_id) = (chrono::Utc::now(), 7);
//! let e = AuditEvent::new("reset-totp", now)
//!     .from(ilot_server::audit::cli_client())
//!     .detail(serde_json::json!({ "operator_id": operator_id }));
//! assert_eq!(e.action, "reset-totp");
//! ```
//! then `storage.record_audit(&e)?`. A list read names the patients it showed with
//! [`AuditEvent::shows`]: each of them sees the read in their access log.

use chrono::{DateTime, Utc};
use ilot_wire::PatientId;

use crate::storage::AuditEvent;

impl AuditEvent {
    /// A record of `action` at `at`, by nobody in particular until [`AuditEvent::by`].
    pub fn new(action: &str, at: DateTime<Utc>) -> Self {
        Self {
            operator_id: None,
            action: action.to_string(),
            patient_id: None,
            client: None,
            detail: None,
            at,
            shown: Vec::new(),
        }
    }

    /// The operator who acted.
    pub fn by(mut self, operator_id: i64) -> Self {
        self.operator_id = Some(operator_id);
        self
    }

    /// The patient concerned.
    pub fn patient(mut self, patient: PatientId) -> Self {
        self.patient_id = Some(patient);
        self
    }

    /// Where the request came from (a [`crate::client::Client`], or [`cli_client`]).
    pub fn from(mut self, client: impl std::fmt::Display) -> Self {
        self.client = Some(client.to_string());
        self
    }

    /// Replaces the detail (call it before [`AuditEvent::shows`], which adds to it).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// A list read that showed these patients (in the order shown): each gets the read in its
    /// access log (an `audit_patients` link, V13, written with the record), and the detail's
    /// `patients` holds their ids.
    ///
    /// Why both: the links are the index the patient's access log is read through, and they
    /// go with the patient's record at the retention purge (they reference it); the audit
    /// record itself is kept (the team's trace of who saw what), and its `detail` is where
    /// that trace says which patients the list showed, after a purge too.
    pub fn shows(mut self, patients: Vec<PatientId>) -> Self {
        let ids: Vec<String> = patients.iter().map(ToString::to_string).collect();
        let mut detail = match self.detail.take() {
            Some(serde_json::Value::Object(m)) => m,
            Some(other) => {
                let mut m = serde_json::Map::new();
                m.insert("detail".into(), other);
                m
            }
            None => serde_json::Map::new(),
        };
        detail.insert("patients".into(), serde_json::json!(ids));
        self.detail = Some(serde_json::Value::Object(detail));
        self.shown = patients;
        self
    }
}

/// The client of an act done with the `ilot operator` commands on the database directly:
/// `cli:<the system user who ran it>`.
pub fn cli_client() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
