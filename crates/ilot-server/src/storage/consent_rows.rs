//! The consent history and the patient's access log (migration V11): what the storage takes
//! and gives, and the methods of [`super::Storage`] each backend forwards to its `consent.rs`.

use chrono::{DateTime, Utc};
use ilot_wire::{
    CareTeamMember, ConsentChange, ConsentChannel, ConsentDecision, ConsentRecord, DeviceId,
};
use serde::Serialize;

/// A decision to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewConsent {
    pub decision: ConsentDecision,
    /// When the patient decided (for the app, the device's time of the decision).
    pub at: DateTime<Utc>,
    pub notice_version: u32,
    /// Who collected it: the patient's device (channel app) or a professional (consultation).
    pub by: ConsentSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentSource {
    Device(DeviceId),
    Operator(i64),
}

impl NewConsent {
    pub fn channel(&self) -> ConsentChannel {
        match self.by {
            ConsentSource::Device(_) => ConsentChannel::App,
            ConsentSource::Operator(_) => ConsentChannel::Consultation,
        }
    }
}

/// One recorded decision, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEvent {
    pub id: i64,
    pub decision: ConsentDecision,
    pub at: DateTime<Utc>,
    /// `None` only for a decision recorded before the history existed (migration V11).
    pub notice_version: Option<u32>,
    pub channel: ConsentChannel,
    /// The professional who collected it (channel consultation).
    pub collected_by: Option<CareTeamMember>,
    pub operator_id: Option<i64>,
    /// The device that sent it (channel app).
    pub device_id: Option<DeviceId>,
    pub recorded_at: DateTime<Utc>,
}

impl ConsentEvent {
    /// The record as the patient's device receives it.
    pub fn to_wire(&self) -> ConsentRecord {
        ConsentRecord {
            id: self.id as u64,
            decision: self.decision,
            at: self.at,
            notice_version: self.notice_version,
            channel: self.channel,
            collected_by: self.collected_by.clone(),
        }
    }
}

/// The device's consent change as a history record: a grant is a consent given in the app, a
/// refusal from the app a withdrawal (nothing is sent before consent, so the server only hears
/// a "no" that follows a "yes").
pub fn consent_of_device(device: DeviceId, c: &ConsentChange) -> NewConsent {
    NewConsent {
        decision: if c.granted {
            ConsentDecision::Given
        } else {
            ConsentDecision::Withdrawn
        },
        at: c.at,
        notice_version: c.notice_version,
        by: ConsentSource::Device(device),
    }
}

/// Whether entries may be stored: no decision yet (the device asks consent before sending
/// anything), or the latest decision in time — the history's or the batch's own — is a
/// consent given. A batch whose change is older than the history's latest does not override it.
pub fn may_collect(
    held: Option<(ConsentDecision, DateTime<Utc>)>,
    change: Option<&NewConsent>,
) -> bool {
    let now = match (held, change) {
        (Some((d, at)), Some(c)) => Some(if c.at >= at { c.decision } else { d }),
        (Some((d, _)), None) => Some(d),
        (None, Some(c)) => Some(c.decision),
        (None, None) => None,
    };
    now.is_none_or(ConsentDecision::granted)
}

/// The latest decision of a history in time order (the last one: ties go to the later record).
pub fn latest(history: &[ConsentEvent]) -> Option<&ConsentEvent> {
    history.last()
}

/// One act of an operator about the patient, as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub by: CareTeamMember,
    pub action: String,
}

/// The consent methods of [`super::Storage`], forwarded to each backend's `consent_*` methods
/// (in its `consent.rs`).
macro_rules! consent_delegates {
    () => {
        fn record_consent(
            &self,
            patient: PatientId,
            c: &super::NewConsent,
            now: DateTime<Utc>,
        ) -> Result<super::ConsentEvent> {
            self.consent_record(patient, c, now)
        }
        fn consent_history(&self, patient: PatientId) -> Result<Vec<super::ConsentEvent>> {
            self.consent_list(patient)
        }
        fn access_log(
            &self,
            patient: PatientId,
            after: i64,
            since: DateTime<Utc>,
            limit: u32,
        ) -> Result<Vec<super::AccessRow>> {
            self.consent_access_log(patient, after, since, limit)
        }
    };
}
pub(crate) use consent_delegates;
