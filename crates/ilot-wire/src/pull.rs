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
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::body::{postcard_decode, postcard_encode};
use crate::envelope::{BatchHeader, Envelope, Kind, private::EnvelopeInner};
use crate::error::{Result, WireError};
use crate::keys::{ToDeviceKey, ToServerKey};
use crate::rights::{Rights, RightsCursor};

/// The device asks for what changed since the cursor in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Random, fresh for every request; the answer must echo it.
    pub request_id: u64,
    /// At most this many changes in the answer (the server may send fewer, with `more`).
    pub limit: u32,
    /// What the device holds of the patient's rights (`crate::rights`); `None` from a device
    /// that predates them, which then gets no [`Pull::rights`].
    #[serde(default)]
    pub rights: Option<RightsCursor>,
}

/// The fields of [`PullRequest`] before the rights tail, as postcard writes them.
#[derive(Serialize, Deserialize)]
struct PullRequestHead {
    request_id: u64,
    limit: u32,
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
    /// The consent history and the access log (`crate::rights`), only in the answer to a
    /// request that carried a [`RightsCursor`].
    #[serde(default)]
    pub rights: Option<Rights>,
}

/// The fields of [`Pull`] before the rights tail, as postcard writes them.
#[derive(Serialize)]
struct PullHeadRef<'a> {
    in_reply_to: u64,
    more: bool,
    prescription: &'a Option<PrescriptionUpdate>,
    messages: &'a [Message],
    appointments: &'a [Appointment],
    alert_acks: &'a [AlertAck],
}

/// [`PullHeadRef`], owned, to decode.
#[derive(Deserialize)]
struct PullHead {
    in_reply_to: u64,
    more: bool,
    prescription: Option<PrescriptionUpdate>,
    messages: Vec<Message>,
    appointments: Vec<Appointment>,
    alert_acks: Vec<AlertAck>,
}

impl Pull {
    pub fn is_empty(&self) -> bool {
        self.prescription.is_none()
            && self.messages.is_empty()
            && self.appointments.is_empty()
            && self.alert_acks.is_empty()
            && self.rights.as_ref().is_none_or(Rights::is_empty)
    }
}

/// Postcard of `head`, then of `tail` when there is one.
fn encode_with_tail<H: Serialize, T: Serialize>(
    head: &H,
    tail: Option<&T>,
    out: &mut Vec<u8>,
) -> Result<()> {
    postcard_encode(head, out)?;
    if let Some(t) = tail {
        postcard_encode(t, out)?;
    }
    Ok(())
}

/// The head, then the tail when bytes remain (nothing may follow the tail).
fn decode_with_tail<H: DeserializeOwned, T: DeserializeOwned>(
    body: &[u8],
) -> Result<(H, Option<T>)> {
    let (head, rest) =
        postcard::take_from_bytes(body).map_err(|e| WireError::Codec(e.to_string()))?;
    let tail = if rest.is_empty() {
        None
    } else {
        Some(postcard_decode(rest)?)
    };
    Ok((head, tail))
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
        let head = PullRequestHead {
            request_id: self.request.request_id,
            limit: self.request.limit,
        };
        encode_with_tail(&head, self.request.rights.as_ref(), out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        let (head, rights): (PullRequestHead, _) = decode_with_tail(body)?;
        Ok(Self {
            header,
            request: PullRequest {
                request_id: head.request_id,
                limit: head.limit,
                rights,
            },
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
        let p = &self.pull;
        let head = PullHeadRef {
            in_reply_to: p.in_reply_to,
            more: p.more,
            prescription: &p.prescription,
            messages: &p.messages,
            appointments: &p.appointments,
            alert_acks: &p.alert_acks,
        };
        encode_with_tail(&head, p.rights.as_ref(), out)
    }
    fn decode_body(header: BatchHeader, body: &[u8]) -> Result<Self> {
        let (h, rights): (PullHead, _) = decode_with_tail(body)?;
        Ok(Self {
            header,
            pull: Pull {
                in_reply_to: h.in_reply_to,
                more: h.more,
                prescription: h.prescription,
                messages: h.messages,
                appointments: h.appointments,
                alert_acks: h.alert_acks,
                rights,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rights::{AccessEntry, ConsentChannel, ConsentDecision, ConsentRecord};
    use crate::{DeviceId, PatientId};

    /// `Pull` and `PullRequest` as protocol version 1 first defined them.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PullV1 {
        in_reply_to: u64,
        more: bool,
        prescription: Option<PrescriptionUpdate>,
        messages: Vec<Message>,
        appointments: Vec<Appointment>,
        alert_acks: Vec<AlertAck>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PullRequestV1 {
        request_id: u64,
        limit: u32,
    }

    fn header() -> BatchHeader {
        BatchHeader::new(
            PatientId::from_bytes([1; 16]),
            DeviceId::from_bytes([2; 16]),
            9,
            "2026-03-02T08:00:00Z".parse().unwrap(),
        )
    }

    fn member() -> CareTeamMember {
        CareTeamMember {
            name: "Dr Martin".into(),
            role: CareRole::Physician,
        }
    }

    fn pull(rights: Option<Rights>) -> OpenPull {
        OpenPull {
            header: header(),
            pull: Pull {
                in_reply_to: 77,
                more: true,
                messages: vec![Message {
                    id: 3,
                    from: member(),
                    text: "Bonjour".into(),
                    sent_at: "2026-03-02T09:00:00Z".parse().unwrap(),
                }],
                rights,
                ..Pull::default()
            },
        }
    }

    #[test]
    fn a_pull_without_rights_is_the_version_1_bytes_both_ways() {
        let p = pull(None);
        let mut bytes = Vec::new();
        p.encode_body(&mut bytes).unwrap();
        let v1 = PullV1 {
            in_reply_to: 77,
            more: true,
            prescription: None,
            messages: p.pull.messages.clone(),
            appointments: vec![],
            alert_acks: vec![],
        };
        assert_eq!(bytes, postcard::to_stdvec(&v1).unwrap());
        assert_eq!(OpenPull::decode_body(header(), &bytes).unwrap(), p);

        let r = OpenPullRequest {
            header: header(),
            request: PullRequest {
                request_id: 5,
                limit: 200,
                rights: None,
            },
        };
        let mut bytes = Vec::new();
        r.encode_body(&mut bytes).unwrap();
        let v1 = PullRequestV1 {
            request_id: 5,
            limit: 200,
        };
        assert_eq!(bytes, postcard::to_stdvec(&v1).unwrap());
        assert_eq!(OpenPullRequest::decode_body(header(), &bytes).unwrap(), r);
    }

    #[test]
    fn the_rights_tail_round_trips_after_the_version_1_fields() {
        let rights = Rights {
            consent: vec![ConsentRecord {
                id: 4,
                decision: ConsentDecision::Refused,
                at: "2026-03-01T10:00:00Z".parse().unwrap(),
                notice_version: Some(2),
                channel: ConsentChannel::Consultation,
                collected_by: Some(member()),
            }],
            access_log: vec![AccessEntry {
                id: 12,
                at: "2026-03-02T08:30:00Z".parse().unwrap(),
                by: member(),
                action: "read-entries".into(),
            }],
        };
        let p = pull(Some(rights));
        let mut bytes = Vec::new();
        p.encode_body(&mut bytes).unwrap();
        assert_eq!(OpenPull::decode_body(header(), &bytes).unwrap(), p);
        // The head is still what a version 1 decoder reads first; the tail follows it.
        let (head, rest): (PullV1, _) = postcard::take_from_bytes(&bytes).unwrap();
        assert_eq!(head.in_reply_to, 77);
        assert!(!rest.is_empty());
        // Bytes after the tail are refused.
        bytes.push(0);
        assert!(OpenPull::decode_body(header(), &bytes).is_err());

        let r = OpenPullRequest {
            header: header(),
            request: PullRequest {
                request_id: 5,
                limit: 200,
                rights: Some(RightsCursor {
                    access_after: 12,
                    consent_after: 0,
                }),
            },
        };
        let mut bytes = Vec::new();
        r.encode_body(&mut bytes).unwrap();
        assert_eq!(OpenPullRequest::decode_body(header(), &bytes).unwrap(), r);
    }
}
