//! What flows from the server to the device, and how the device asks for it.
//!
//! The device sends a sealed [`OpenPullRequest`] (device → server key) whose header `seq` is the
//! cursor it has applied up to; the server answers with a sealed [`OpenPull`] (server → device
//! key) whose header `seq` is the cursor reached. The device opens it with
//! `SeqRule::AtLeast(cursor sent)`, so a stale answer replayed by someone in between is refused,
//! and checks [`OpenPull::answers`] against its own random `request_id`.
//!
//! Bodies are postcard-encoded serde types; the same types are plain JSON for tests, logs of
//! structure (never content) and the OpenAPI description.

use chrono::{DateTime, Utc};
use ilot_domain::Prescription;
use serde::{Deserialize, Serialize};

use crate::body::{postcard_decode, postcard_encode};
use crate::envelope::{BatchHeader, Envelope, Kind, private::EnvelopeInner};
use crate::error::{Result, WireError};
use crate::keys::{ToDeviceKey, ToServerKey};

/// The device asks for what changed since the cursor in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Random, fresh for every request; the answer must echo it.
    pub request_id: u64,
    /// At most this many changes in the answer (the server may send fewer, with `more`).
    pub limit: u32,
}

/// Everything the care team changed for this patient after the cursor asked from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Pull {
    /// The `request_id` this answers.
    pub in_reply_to: u64,
    /// More changes are waiting: pull again from the new cursor.
    pub more: bool,
    /// The current prescription (targets, thresholds, treatment) when it changed.
    pub prescription: Option<PrescriptionUpdate>,
    pub messages: Vec<Message>,
    pub appointments: Vec<Appointment>,
    pub alert_acks: Vec<AlertAck>,
}

impl Pull {
    pub fn is_empty(&self) -> bool {
        self.prescription.is_none()
            && self.messages.is_empty()
            && self.appointments.is_empty()
            && self.alert_acks.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrescriptionUpdate {
    /// Grows with every change; the device keeps the highest it applied.
    pub version: u32,
    pub prescription: Prescription,
    pub changed_at: DateTime<Utc>,
    pub changed_by: CareTeamMember,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareTeamMember {
    /// As the patient should see it ("Dr Martin", "Inès, IDE").
    pub name: String,
    pub role: CareRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CareRole {
    Physician,
    Nurse,
}

/// A message from the care team to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The server's id; applying the same message twice keeps one.
    pub id: u64,
    pub from: CareTeamMember,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// An appointment: a therapeutic-education session or a consultation. A change or a
/// cancellation is the same id with a higher version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: u64,
    pub version: u32,
    pub kind: AppointmentKind,
    pub starts_at: DateTime<Utc>,
    pub duration_min: u32,
    pub mode: AppointmentMode,
    pub with: Option<CareTeamMember>,
    /// Education module or reason, as the patient should read it.
    pub topic: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppointmentKind {
    Education,
    Consultation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppointmentMode {
    InPerson { place: Option<String> },
    Video { link: Option<String> },
    Phone,
}

/// The care team read an alert the device (or the server) raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertAck {
    /// The alert's deterministic key (`ilot_rules::Alert::key`), the same on both sides.
    pub alert_key: String,
    pub acknowledged_at: DateTime<Utc>,
    pub by: CareTeamMember,
    pub note: Option<String>,
}

/// A pull request, readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPullRequest {
    /// `seq` is the cursor the device has applied up to (0 at first).
    pub header: BatchHeader,
    pub request: PullRequest,
}

impl OpenPullRequest {
    pub fn since(&self) -> u64 {
        self.header.seq
    }
}

/// A pull, readable.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenPull {
    /// `seq` is the cursor reached: the device stores it once it applied `pull`.
    pub header: BatchHeader,
    pub pull: Pull,
}

impl OpenPull {
    pub fn cursor(&self) -> u64 {
        self.header.seq
    }

    /// Refuses an answer to another request (e.g. one replayed from an earlier session).
    pub fn answers(&self, request: &PullRequest) -> Result<()> {
        if self.pull.in_reply_to == request.request_id {
            Ok(())
        } else {
            Err(WireError::NotAnAnswer {
                request_id: request.request_id,
                in_reply_to: self.pull.in_reply_to,
            })
        }
    }
}

impl Envelope for OpenPullRequest {
    const KIND: Kind = Kind::PullRequest;
    type Key = ToServerKey;
    fn header(&self) -> &BatchHeader {
        &self.header
    }
}

impl EnvelopeInner for OpenPullRequest {
    fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        postcard_encode(&self.request, out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        Ok(Self {
            header,
            request: postcard_decode(body)?,
        })
    }
}

impl Envelope for OpenPull {
    const KIND: Kind = Kind::Pull;
    type Key = ToDeviceKey;
    fn header(&self) -> &BatchHeader {
        &self.header
    }
}

impl EnvelopeInner for OpenPull {
    fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        postcard_encode(&self.pull, out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        Ok(Self {
            header,
            pull: postcard_decode(body)?,
        })
    }
}
