//! What the engine must remember between runs, behind a trait: the enrolment identity and keys,
//! the next batch number, the sealed bytes of the batch in flight (resent as they are after a
//! crash, so the server recognises them), the pull cursor, consent, and what the care team sent.
//! [`MemoryState`] is for tests; the store implements the trait for real use.

use chrono::{DateTime, Utc};
use ilot_wire::{
    AccessEntry, AlertAck, Appointment, ConsentChannel, ConsentRecord, DeviceId, DeviceSecret,
    Message, PatientId, PublicKey, Rights, RightsCursor, ServerUrl, SessionKeys,
};
use zeroize::Zeroizing;

use crate::error::{Result, SyncError};

/// Who this device is for the server. `Debug` hides the secret.
#[derive(Clone)]
pub struct Identity {
    pub server: ServerUrl,
    pub patient_id: PatientId,
    pub device_id: DeviceId,
    pub server_public_key: PublicKey,
    pub device_secret: DeviceSecret,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("server", &self.server)
            .field("patient_id", &self.patient_id)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl Identity {
    pub fn keys(&self) -> Result<SessionKeys> {
        Ok(self
            .device_secret
            .agree(&self.server_public_key, self.patient_id, self.device_id)?)
    }

    /// The identity as JSON for a state store; the secret is hex inside, so the caller must
    /// keep the text encrypted (the store is SQLCipher).
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::json!({
                "server": self.server.as_str(),
                "patient_id": self.patient_id.to_string(),
                "device_id": self.device_id.to_string(),
                "server_public_key": self.server_public_key.to_string(),
                "device_secret": hex_encode(self.device_secret.to_bytes().as_ref()),
            })
            .to_string(),
        )
    }

    /// The identity without the device secret (which the caller keeps in the OS keyring).
    pub fn to_public_json(&self) -> String {
        serde_json::json!({
            "server": self.server.as_str(),
            "patient_id": self.patient_id.to_string(),
            "device_id": self.device_id.to_string(),
            "server_public_key": self.server_public_key.to_string(),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_json_or(text, || {
            Err(SyncError::State("identity has no device_secret".into()))
        })
    }

    /// Reads [`Self::to_json`] or [`Self::to_public_json`]; the secret comes from the text when
    /// it holds one (an identity saved before the keyring), else from `secret`.
    pub fn from_json_or(text: &str, secret: impl FnOnce() -> Result<DeviceSecret>) -> Result<Self> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SyncError::State(e.to_string()))?;
        let field = |k: &str| {
            v[k].as_str()
                .ok_or_else(|| SyncError::State(format!("identity has no {k}")))
        };
        let bad = |e: ilot_wire::WireError| SyncError::State(e.to_string());
        let device_secret = match v["device_secret"].as_str() {
            Some(hex) => {
                let mut bytes = Zeroizing::new([0u8; 32]);
                let raw = Zeroizing::new(hex_decode(hex)?);
                if raw.len() != 32 {
                    return Err(SyncError::State(
                        "device secret has the wrong length".into(),
                    ));
                }
                bytes.copy_from_slice(&raw);
                DeviceSecret::from_bytes(bytes)
            }
            None => secret()?,
        };
        Ok(Self {
            server: ServerUrl::parse(field("server")?).map_err(bad)?,
            patient_id: field("patient_id")?.parse().map_err(bad)?,
            device_id: field("device_id")?.parse().map_err(bad)?,
            server_public_key: field("server_public_key")?.parse().map_err(bad)?,
            device_secret,
        })
    }
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_decode(s: &str) -> Result<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return Err(SyncError::State("odd hex length".into()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| SyncError::State(e.to_string())))
        .collect()
}

/// A sealed batch saved before sending: resent byte for byte until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub seq: u64,
    pub sealed: Vec<u8>,
    /// The outbox items it carries (and the non-entry items it retires).
    pub outbox_seqs: Vec<i64>,
    /// The consent change it carries, if any (`Some(false)`: the withdrawal notice).
    pub consent: Option<bool>,
}

/// The patient's decision about transmission (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub notice_version: u32,
    /// The server was told of this decision (acknowledged batch), or it came from the server.
    pub told_server: bool,
    /// Where the decision was taken: in this app, or in consultation (recorded by the care team
    /// and followed after a pull, see `crate::consent`).
    pub channel: ConsentChannel,
    /// The server's consent record this state follows (channel consultation): its
    /// `collected_by` names who collected it.
    pub record: Option<u64>,
}

/// A time during which consent was withdrawn (or refused) after having been given: readings
/// measured in it never leave the device (`crate::consent`). `until` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WithdrawnPeriod {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl WithdrawnPeriod {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }
}

pub trait SyncState {
    fn identity(&self) -> Result<Option<Identity>>;
    /// Saves the identity enrolment gave, replacing any earlier one atomically with forgetting
    /// the batch in flight (sealed for the earlier identity: its outbox items are still unsent
    /// and go in a new batch) and the refusal below.
    fn set_identity(&mut self, id: &Identity) -> Result<()>;
    /// The device the server last refused as unknown or revoked (`unknown_device`), recorded by
    /// [`crate::sync_once`] and cleared by a session that goes through: what allows enrolling
    /// again in place.
    fn refused_device(&self) -> Result<Option<DeviceId>>;
    fn set_refused_device(&mut self, device: Option<DeviceId>) -> Result<()>;
    /// The number the next new batch gets (1 at first).
    fn next_batch_seq(&self) -> Result<u64>;
    fn in_flight(&self) -> Result<Option<InFlight>>;
    /// Saves the batch about to be sent and moves the next number past it, atomically.
    fn begin_batch(&mut self, batch: &InFlight) -> Result<()>;
    /// Forgets the batch in flight (acknowledged, or dropped after a withdrawal).
    fn finish_batch(&mut self, seq: u64) -> Result<()>;
    fn pull_cursor(&self) -> Result<u64>;
    fn set_pull_cursor(&mut self, cursor: u64) -> Result<()>;
    fn consent(&self) -> Result<Option<Consent>>;
    fn set_consent(&mut self, c: &Consent) -> Result<()>;
    /// The periods of withdrawn consent, oldest first.
    fn withdrawn_periods(&self) -> Result<Vec<WithdrawnPeriod>>;
    fn set_withdrawn_periods(&mut self, p: &[WithdrawnPeriod]) -> Result<()>;
    /// Highest prescription version applied from the server (0: none).
    fn prescription_version(&self) -> Result<u32>;
    fn set_prescription_version(&mut self, v: u32) -> Result<()>;
    /// Keeps one copy per message id.
    fn save_messages(&mut self, m: &[Message]) -> Result<()>;
    fn messages(&self) -> Result<Vec<Message>>;
    /// Keeps the highest version per appointment id.
    fn save_appointments(&mut self, a: &[Appointment]) -> Result<()>;
    fn appointments(&self) -> Result<Vec<Appointment>>;
    /// Keeps one acknowledgement per alert key.
    fn save_alert_acks(&mut self, a: &[AlertAck]) -> Result<()>;
    fn alert_acks(&self) -> Result<Vec<AlertAck>>;
    /// What the device holds of the patient's rights (the pull asks for what is newer).
    fn rights_cursor(&self) -> Result<RightsCursor>;
    /// Applies a pull's rights: a non-empty consent history replaces the one kept, access
    /// records are kept once per id, then the cursor moves past both.
    fn save_rights(&mut self, r: &Rights) -> Result<()>;
    /// The consent history the server holds, oldest first.
    fn server_consent(&self) -> Result<Vec<ConsentRecord>>;
    /// The access log received, in id order.
    fn access_log(&self) -> Result<Vec<AccessEntry>>;
}

/// The cursor after applying `r` on top of `c`.
pub(crate) fn advance(c: RightsCursor, r: &Rights) -> RightsCursor {
    RightsCursor {
        access_after: r
            .access_log
            .iter()
            .map(|a| a.id)
            .fold(c.access_after, u64::max),
        consent_after: r
            .consent
            .iter()
            .map(|e| e.id)
            .fold(c.consent_after, u64::max),
    }
}

/// In-memory state for tests.
#[derive(Debug, Default)]
pub struct MemoryState {
    identity: Option<Identity>,
    refused: Option<DeviceId>,
    next_seq: u64,
    in_flight: Option<InFlight>,
    cursor: u64,
    consent: Option<Consent>,
    withdrawn: Vec<WithdrawnPeriod>,
    prescription_version: u32,
    messages: Vec<Message>,
    appointments: Vec<Appointment>,
    acks: Vec<AlertAck>,
    rights: RightsCursor,
    server_consent: Vec<ConsentRecord>,
    access: Vec<AccessEntry>,
}

impl SyncState for MemoryState {
    fn identity(&self) -> Result<Option<Identity>> {
        Ok(self.identity.clone())
    }
    fn set_identity(&mut self, id: &Identity) -> Result<()> {
        self.identity = Some(id.clone());
        self.in_flight = None;
        self.refused = None;
        Ok(())
    }
    fn refused_device(&self) -> Result<Option<DeviceId>> {
        Ok(self.refused)
    }
    fn set_refused_device(&mut self, device: Option<DeviceId>) -> Result<()> {
        self.refused = device;
        Ok(())
    }
    fn next_batch_seq(&self) -> Result<u64> {
        Ok(self.next_seq.max(1))
    }
    fn in_flight(&self) -> Result<Option<InFlight>> {
        Ok(self.in_flight.clone())
    }
    fn begin_batch(&mut self, batch: &InFlight) -> Result<()> {
        self.in_flight = Some(batch.clone());
        self.next_seq = batch.seq + 1;
        Ok(())
    }
    fn finish_batch(&mut self, seq: u64) -> Result<()> {
        if self.in_flight.as_ref().is_some_and(|f| f.seq == seq) {
            self.in_flight = None;
        }
        Ok(())
    }
    fn pull_cursor(&self) -> Result<u64> {
        Ok(self.cursor)
    }
    fn set_pull_cursor(&mut self, cursor: u64) -> Result<()> {
        self.cursor = cursor;
        Ok(())
    }
    fn consent(&self) -> Result<Option<Consent>> {
        Ok(self.consent)
    }
    fn set_consent(&mut self, c: &Consent) -> Result<()> {
        self.consent = Some(*c);
        Ok(())
    }
    fn withdrawn_periods(&self) -> Result<Vec<WithdrawnPeriod>> {
        Ok(self.withdrawn.clone())
    }
    fn set_withdrawn_periods(&mut self, p: &[WithdrawnPeriod]) -> Result<()> {
        self.withdrawn = p.to_vec();
        Ok(())
    }
    fn prescription_version(&self) -> Result<u32> {
        Ok(self.prescription_version)
    }
    fn set_prescription_version(&mut self, v: u32) -> Result<()> {
        self.prescription_version = v;
        Ok(())
    }
    fn save_messages(&mut self, m: &[Message]) -> Result<()> {
        for m in m {
            if !self.messages.iter().any(|x| x.id == m.id) {
                self.messages.push(m.clone());
            }
        }
        Ok(())
    }
    fn messages(&self) -> Result<Vec<Message>> {
        Ok(self.messages.clone())
    }
    fn save_appointments(&mut self, a: &[Appointment]) -> Result<()> {
        for a in a {
            match self.appointments.iter_mut().find(|x| x.id == a.id) {
                Some(x) if x.version < a.version => *x = a.clone(),
                Some(_) => {}
                None => self.appointments.push(a.clone()),
            }
        }
        Ok(())
    }
    fn appointments(&self) -> Result<Vec<Appointment>> {
        Ok(self.appointments.clone())
    }
    fn save_alert_acks(&mut self, a: &[AlertAck]) -> Result<()> {
        for a in a {
            if !self.acks.iter().any(|x| x.alert_key == a.alert_key) {
                self.acks.push(a.clone());
            }
        }
        Ok(())
    }
    fn alert_acks(&self) -> Result<Vec<AlertAck>> {
        Ok(self.acks.clone())
    }
    fn rights_cursor(&self) -> Result<RightsCursor> {
        Ok(self.rights)
    }
    fn save_rights(&mut self, r: &Rights) -> Result<()> {
        if !r.consent.is_empty() {
            self.server_consent = r.consent.clone();
        }
        for a in &r.access_log {
            if !self.access.iter().any(|x| x.id == a.id) {
                self.access.push(a.clone());
            }
        }
        self.rights = advance(self.rights, r);
        Ok(())
    }
    fn server_consent(&self) -> Result<Vec<ConsentRecord>> {
        Ok(self.server_consent.clone())
    }
    fn access_log(&self) -> Result<Vec<AccessEntry>> {
        Ok(self.access.clone())
    }
}
