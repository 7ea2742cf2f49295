//! A patient's identity as versions (migration V8, the INS): the types and the methods of
//! [`super::Storage`], forwarded by each backend to its `identity.rs`.
//!
//! Rows are only ever appended. A write names the version it builds on (`after`), so that two
//! professionals editing at once cannot overwrite each other: the second gets `None` (nothing
//! written) and must reload. Serialising on the primary key (patient, version) makes this hold
//! across nodes and backends alike.

use chrono::{DateTime, Utc};
use ilot_domain::ins::{Identity, IdentityStatus};
use ilot_wire::PatientId;
use serde::Serialize;

/// One stored version of a patient's identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityVersion {
    pub version: u32,
    pub identity: Identity,
    /// What made this version: `created`, `amended`, `unchanged`, `proof:insi-retrieved`,
    /// `proof:document-checked:<document>`.
    pub change: String,
    /// Why, as the professional wrote it (required for an amendment).
    pub reason: Option<String>,
    pub operator_id: i64,
    /// The operator's display name (`None` if the account is gone).
    pub operator_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A version to append on top of version `after` (0: the first).
#[derive(Debug, Clone)]
pub struct NewIdentityVersion<'a> {
    pub patient: PatientId,
    pub after: u32,
    pub identity: &'a Identity,
    pub change: &'a str,
    pub reason: Option<&'a str>,
    pub operator_id: i64,
    pub at: DateTime<Utc>,
}

/// The stored name of a status (ASCII, as the V8 CHECK constraint lists them).
pub(crate) fn status_name(s: IdentityStatus) -> &'static str {
    match s {
        IdentityStatus::Provisoire => "provisoire",
        IdentityStatus::Recuperee => "recuperee",
        IdentityStatus::Validee => "validee",
        IdentityStatus::Qualifiee => "qualifiee",
    }
}

/// The V8 methods of [`Storage`], forwarded to each backend's `ident_*` methods.
macro_rules! identity_delegates {
    () => {
        fn identity_versions(
            &self,
            patient: PatientId,
        ) -> Result<Vec<super::identity::IdentityVersion>> {
            self.ident_versions(patient)
        }
        fn qualified_identities(&self) -> Result<Vec<(PatientId, ilot_domain::ins::Identity)>> {
            self.ident_qualified()
        }
        fn add_identity_version(
            &self,
            v: &super::identity::NewIdentityVersion<'_>,
        ) -> Result<Option<super::identity::IdentityVersion>> {
            self.ident_add(v)
        }
    };
}
pub(crate) use identity_delegates;
