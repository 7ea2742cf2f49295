//! The patient's rights in the pull feed (added after protocol version 1's first pulls): the
//! consent history the server holds, and the access log (who of the care team read or changed
//! the patient's data). Both travel as an optional tail after the original fields of
//! [`crate::PullRequest`] and [`crate::Pull`]:
//!
//! - a device that knows them always sends [`RightsCursor`] after `limit` (an older server
//!   refuses the bytes after the end of its message, so the server is upgraded first);
//! - a server answers with [`Rights`] after `alert_acks` only to a request that carried the
//!   cursor, so an older device (which refuses bytes after its message) keeps working and simply
//!   never receives the access log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::pull::CareTeamMember;

/// What the device already holds: the highest access-log and consent-record ids applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RightsCursor {
    pub access_after: u64,
    pub consent_after: u64,
}

/// The patient's rights, as the server holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rights {
    /// The whole consent history, oldest first, when it has a record after
    /// `consent_after` (empty otherwise: nothing new). Its last record is the state the
    /// server holds.
    pub consent: Vec<ConsentRecord>,
    /// Who read or changed the patient's data, after `access_after`, in id order; only the
    /// last 12 months.
    pub access_log: Vec<AccessEntry>,
}

impl Rights {
    pub fn is_empty(&self) -> bool {
        self.consent.is_empty() && self.access_log.is_empty()
    }
}

/// One decision about telesurveillance (the act and the processing of its data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentDecision {
    Given,
    Refused,
    Withdrawn,
}

impl ConsentDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Given => "given",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "given" => Some(Self::Given),
            "refused" => Some(Self::Refused),
            "withdrawn" => Some(Self::Withdrawn),
            _ => None,
        }
    }

    pub fn granted(self) -> bool {
        self == Self::Given
    }
}

/// How a decision was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentChannel {
    /// By the patient in the app.
    App,
    /// By a named professional, in consultation.
    Consultation,
}

impl ConsentChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Consultation => "consultation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app" => Some(Self::App),
            "consultation" => Some(Self::Consultation),
            _ => None,
        }
    }
}

/// One record of the consent history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub id: u64,
    pub decision: ConsentDecision,
    pub at: DateTime<Utc>,
    /// The version of the information notice the patient was given; `None` only for decisions
    /// the server recorded before it kept the history.
    pub notice_version: Option<u32>,
    pub channel: ConsentChannel,
    /// The professional who collected it (channel consultation).
    pub collected_by: Option<CareTeamMember>,
}

/// One act of the care team on the patient's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub by: CareTeamMember,
    /// The server's action code (`read-entries`, `send-message`, …, or a list that showed the
    /// patient: `triage`, `list-patients`, …); the app words it, and words a code it does not
    /// know as a reading of the record.
    pub action: String,
}
